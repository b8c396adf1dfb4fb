/** Checksums and check letters that tell a real identifier from a number that merely looks like one. */

/** The digits of `text`, nothing else. */
export function digitsOf(text: string): string {
  let digits = '';
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code >= 48 && code <= 57) digits += text[index];
  }
  return digits;
}

/** Luhn (mod 10) check used by payment card numbers. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let index = digits.length - 1; index >= 0; index--) {
    let value = digits.charCodeAt(index) - 48;
    if (double) {
      value *= 2;
      if (value > 9) value -= 9;
    }
    sum += value;
    double = !double;
  }
  return digits.length > 0 && sum % 10 === 0;
}

/** `text` (digits and letters, A = 10 … Z = 35) as a number modulo 97, without big integers. */
function mod97(text: string): number {
  let remainder = 0;
  for (const char of text) {
    const code = char.charCodeAt(0);
    if (code >= 48 && code <= 57) remainder = (remainder * 10 + (code - 48)) % 97;
    else remainder = (remainder * 100 + (code - 55)) % 97;
  }
  return remainder;
}

/** ISO 13616 IBAN check: country code and check digits moved to the end, the whole number mod 97 is 1. */
export function ibanValid(text: string): boolean {
  const compact = text.replace(/ /g, '').toUpperCase();
  if (compact.length < 15 || compact.length > 34) return false;
  return mod97(compact.slice(4) + compact.slice(0, 4)) === 1;
}

const dniLetters = 'TRWAGMYFPDXBNJZSQVHLCKE';

/** Spanish DNI (8 digits) or NIE (X, Y or Z and 7 digits) with its check letter. */
export function spanishIdValid(text: string): boolean {
  const compact = text.replace('-', '').toUpperCase();
  const lead = 'XYZ'.indexOf(compact[0] ?? '');
  const number = Number((lead === -1 ? '' : String(lead)) + compact.slice(lead === -1 ? 0 : 1, -1));
  return dniLetters[number % 23] === compact.at(-1);
}

/** French NIR (social security number): 13 characters and a 2-digit key, 97 minus the number mod 97. */
export function frenchNirValid(text: string): boolean {
  const compact = text.replace(/ /g, '').toUpperCase();
  // Corsica's departments 2A and 2B are numbered 19 and 18 for the key.
  const body = compact.slice(0, 13).replace('2A', '19').replace('2B', '18');
  const key = Number(compact.slice(13));
  return 97 - mod97(body) === key;
}

/** US SSNs the SSA never issues or that are publicly known (advertising and the Woolworth wallet card). */
const voidSsns = new Set(['078051120', '219099999']);

export function ssnValid(text: string): boolean {
  const digits = digitsOf(text);
  if (voidSsns.has(digits)) return false;
  // 987-65-4320 … 987-65-4329 are reserved for advertising.
  return !digits.startsWith('98765432');
}

/** A JWT's first part decodes to a JSON object with a string `alg`. */
export function jwtHeaderValid(token: string): boolean {
  const header = token.slice(0, token.indexOf('.'));
  try {
    const base64 = header.replace(/-/g, '+').replace(/_/g, '/');
    const parsed: unknown = JSON.parse(atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4)));
    return typeof parsed === 'object' && parsed !== null && typeof (parsed as { alg?: unknown }).alg === 'string';
  } catch {
    return false;
  }
}

/** A random-looking token has digits and letters of both cases; a word joined by dashes does not. */
export function looksRandom(token: string): boolean {
  return /\d/.test(token) && /[a-z]/.test(token) && /[A-Z]/.test(token);
}

/** Has at least one digit: real tokens do, prose rarely does. */
export function hasDigit(token: string): boolean {
  return /\d/.test(token);
}

/** Phone numbers: 8 to 15 digits with a `+` country code (E.164), 10 or 11 in a national format. */
export function phoneValid(text: string): boolean {
  const count = digitsOf(text).length;
  return text.startsWith('+') ? count >= 8 && count <= 15 : count >= 10 && count <= 11;
}
