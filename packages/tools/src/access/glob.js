const always = () => true;
/**
 * Compiles a glob (`*` any run of characters, `?` one character, everything else literal) to a matcher, once.
 * A plain name compiles to an equality test and `*` to a constant, so the common cases cost no regex.
 */
export function compileGlob(glob) {
  if (glob === '*') return always;
  if (!/[*?]/.test(glob)) return (name) => name === glob;
  const source = glob
    .split('')
    .map((character) => {
      if (character === '*') return '.*';
      if (character === '?') return '.';
      return character.replace(/[.+^${}()|[\]\\/-]/g, '\\$&');
    })
    .join('');
  const pattern = new RegExp(`^${source}$`, 's');
  return (name) => pattern.test(name);
}
/** Compiles one glob or a list (any of them may match); `undefined` matches everything. */
export function compileGlobs(globs) {
  if (globs === undefined) return always;
  const list = typeof globs === 'string' ? [globs] : globs;
  if (list.includes('*')) return always;
  const matchers = list.map(compileGlob);
  if (matchers.length === 1) return matchers[0];
  return (name) => {
    for (const matcher of matchers) if (matcher(name)) return true;
    return false;
  };
}
