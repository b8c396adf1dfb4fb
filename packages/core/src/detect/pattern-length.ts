/** The shortest and longest text (in UTF-16 code units) a pattern can match; `max` is `Infinity` when unbounded. */
export interface LengthBounds {
  min: number;
  max: number;
}

const quantifier = /^\{(\d+)(,(\d*))?\}/;

/**
 * Reads a regular expression's source and bounds the length of what it can match. Detectors need the bound
 * so that a stream scanner knows how much text to hold back, and the lower bound catches patterns that can
 * match the empty string (which would loop forever or redact nothing) at set-up time instead of at scan time.
 * Lookarounds and anchors count as zero width; a backreference makes the bound unknown (`Infinity`).
 */
export function patternLengthBounds(pattern: RegExp): LengthBounds {
  const source = pattern.source;
  const unicode = pattern.flags.includes('u') || pattern.flags.includes('v');
  // One character class or `.` can match an astral character, two code units, in unicode mode.
  const unit = unicode ? 2 : 1;
  let index = 0;

  const alternation = (): LengthBounds => {
    let result = sequence();
    while (source[index] === '|') {
      index++;
      const next = sequence();
      result = { min: Math.min(result.min, next.min), max: Math.max(result.max, next.max) };
    }
    return result;
  };

  const sequence = (): LengthBounds => {
    let min = 0;
    let max = 0;
    while (index < source.length && source[index] !== '|' && source[index] !== ')') {
      const bounds = quantified(atom());
      min += bounds.min;
      max += bounds.max;
    }
    return { min, max };
  };

  const group = (): LengthBounds => {
    index++; // (
    let zeroWidth = false;
    if (source[index] === '?') {
      const rest = source.slice(index + 1, index + 3);
      if (rest.startsWith('=') || rest.startsWith('!')) {
        zeroWidth = true;
        index += 2;
      } else if (rest === '<=' || rest === '<!') {
        zeroWidth = true;
        index += 3;
      } else if (rest.startsWith('<')) {
        index = source.indexOf('>', index) + 1; // a named group
      } else {
        index = skipGroupPrefix(source, index);
      }
    }
    const inner = alternation();
    index++; // )
    return zeroWidth ? { min: 0, max: 0 } : inner;
  };

  const atom = (): LengthBounds => {
    const char = source[index];
    if (char === '(') return group();
    if (char === '[') {
      index = classEnd(source, index);
      return { min: 1, max: unit };
    }
    if (char === '^' || char === '$') {
      index++;
      return { min: 0, max: 0 };
    }
    if (char === '.') {
      index++;
      return { min: 1, max: unit };
    }
    if (char === '\\') return escapeSequence();
    index++;
    return { min: 1, max: 1 };
  };

  const escapeSequence = (): LengthBounds => {
    const next = source[index + 1] ?? '';
    index += 2;
    if (next === 'b' || next === 'B') return { min: 0, max: 0 };
    if (/[1-9]/.test(next) || (next === 'k' && source[index] === '<')) {
      while (/[0-9]/.test(source[index] ?? '')) index++;
      if (next === 'k') index = source.indexOf('>', index) + 1;
      return { min: 0, max: Number.POSITIVE_INFINITY };
    }
    if ((next === 'u' || next === 'p' || next === 'P') && source[index] === '{') {
      index = source.indexOf('}', index) + 1;
      return { min: 1, max: unit };
    }
    if (next === 'u') index += 4;
    else if (next === 'x') index += 2;
    else if (next === 'c') index += 1;
    return { min: 1, max: unit };
  };

  const quantified = (bounds: LengthBounds): LengthBounds => {
    const char = source[index];
    let result = bounds;
    if (char === '*' || char === '+' || char === '?') {
      index++;
      const max = char === '?' ? bounds.max : bounds.max > 0 ? Number.POSITIVE_INFINITY : 0;
      result = { min: char === '+' ? bounds.min : 0, max };
    } else if (char === '{') {
      const match = quantifier.exec(source.slice(index));
      if (!match) return bounds;
      index += match[0].length;
      const low = Number(match[1]);
      const high = match[2] === undefined ? low : match[3] === '' ? Number.POSITIVE_INFINITY : Number(match[3]);
      result = { min: bounds.min * low, max: bounds.max === 0 ? 0 : bounds.max * high };
    } else {
      return bounds;
    }
    if (source[index] === '?') index++; // lazy
    return result;
  };

  return alternation();
}

/** Skips `?:` and modifiers such as `?i:` or `?-i:` after a group's `(`. */
function skipGroupPrefix(source: string, index: number): number {
  let position = index + 1;
  while (/[a-z-]/.test(source[position] ?? '')) position++;
  return position + 1;
}

/** The index after the `]` closing the character class that opens at `index`. */
function classEnd(source: string, index: number): number {
  let position = index + 1;
  while (position < source.length && source[position] !== ']') position += source[position] === '\\' ? 2 : 1;
  return position + 1;
}
