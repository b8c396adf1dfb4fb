// The agents layer lands with its own issue; this package is scaffolded by the foundation.
export {};
