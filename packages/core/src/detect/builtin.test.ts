import { describe, expect, it } from 'vitest';
import { defaultDetectors, detectorsById, piiDetectors, secretDetectors } from './builtin.js';
import { scan } from './scan.js';

// Credentials are assembled here rather than written out, so that no secret scanner flags this file.
const random36 = 'aB3dE5fG7hJ9kL2mN4pQ6rS8tU1vW3xY5zA7';
const openaiProjectKey = `sk-proj-${random36}${random36}_-Zq`;
const openaiLegacyKey = `sk-${random36}Tq8Rz1Ww4Kk9`;
const anthropicKey = `sk-ant-api03-${random36}${random36}-AA`;
const githubClassic = `ghp_${random36}`;
const githubFineGrained = `github_pat_11ABCDEFG0_${random36}${random36}`;
const slackToken = `xoxb-1234567890-1234567890123-${random36.slice(0, 24)}`;
const googleKey = `AIza${random36.slice(0, 35)}`;
const stripeKey = `sk_live_${random36.slice(0, 24)}`;
const jwt =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c';
const pemBody = `${'MIIEowIBAAKCAQEAx4Gk'.repeat(3)}\n${'q9Tz+Lr/8Wm3YbN0cVdE'.repeat(3)}\n`;
const privateKey = `-----BEGIN RSA PRIVATE KEY-----\n${pemBody}-----END RSA PRIVATE KEY-----`;

/** The detector ids found in `text`, with what each covers. */
function found(text: string): { detector: string; text: string }[] {
  return scan(text).map((finding) => ({ detector: finding.detector, text: text.slice(finding.start, finding.end) }));
}

/** Asserts that `text` holds exactly one finding, by `detector`, covering `covered`. */
function expectOnly(text: string, detector: string, covered: string): void {
  expect(found(text)).toEqual([{ detector, text: covered }]);
}

describe('built-in PII detectors', () => {
  it.each([['ana.lopez+news@mail.example.co.uk'], ['Bob_O-Neil@sub-domain.example.io']])(
    'finds the email %s',
    (email) => expectOnly(`write to ${email}, thanks`, 'email', email),
  );

  it.each([['user@localhost'], ['@handle on social'], ['price 3@4.5 each'], ['a@b']])(
    'does not take %s for an email',
    (text) => expect(found(text)).toEqual([]),
  );

  it.each([
    ['+44 20 7946 0958'],
    ['+1 415 555 2671'],
    ['+14155552671'],
    ['+33 6 12 34 56 78'],
    ['+49 (30) 1234 5678'],
    ['(415) 555-2671'],
    ['415-555-2671'],
    ['415.555.2671'],
    ['1-800-555-1234'],
    ['020 7946 0958'],
    ['06 12 34 56 78'],
    ['07700 900123'],
  ])('finds the phone number %s', (phone) => expectOnly(`call ${phone} today`, 'phone', phone));

  it.each([
    ['the years 2023 and 2024'],
    ['due 2024-01-15 at 12:30'],
    ['on 15.01.2024'],
    ['order 123456789 shipped'],
    ['Order #4815162342'],
    ['total $1,234,567.89'],
    ['1 234 567 euros'],
    ['version 1.2.3.4'],
    ['host 192.168.100.200'],
    ['+5 points'],
    ['score +100.00'],
    ['exchange 415-155-2671 is not issued'],
  ])('does not take "%s" for a phone number', (text) => expect(found(text)).toEqual([]));

  it.each([
    ['4111 1111 1111 1111'],
    ['4111-1111-1111-1111'],
    ['4111111111111111'],
    ['5555 5555 5555 4444'],
    ['378282246310005'],
    ['6011 1111 1111 1117'],
  ])('finds the card number %s', (card) => expectOnly(`pay with ${card}.`, 'card', card));

  it.each([
    ['4111 1111 1111 1112', 'Luhn-invalid'],
    ['1234 5678 9012 3456', 'Luhn-invalid, starts with 1'],
    ['0000 0000 0000 0000', 'starts with 0'],
    ['4111 1111 1111', '12 digits'],
    ['4111 1111 1111 1111 1111 1', '21 digits'],
  ])('does not take %s (%s) for a card', (text) => expect(found(`number ${text} here`)).toEqual([]));

  it.each([
    ['DE89 3704 0044 0532 0130 00'],
    ['DE89370400440532013000'],
    ['GB82 WEST 1234 5698 7654 32'],
    ['FR14 2004 1010 0505 0001 3M02 606'],
  ])('finds the IBAN %s', (iban) => expectOnly(`send to ${iban} please`, 'iban', iban));

  it('does not take an IBAN with a wrong check for one', () => {
    expect(found('send to DE89 3704 0044 0532 0130 01 please')).toEqual([]);
    expect(found('send to GB83 WEST 1234 5698 7654 32 please')).toEqual([]);
  });

  it.each([['123-45-6789'], ['123 45 6789'], ['771-12-3456']])('finds the SSN %s', (ssn) =>
    expectOnly(`ssn ${ssn}.`, 'us-ssn', ssn),
  );

  it.each([
    ['000-12-3456'],
    ['666-12-3456'],
    ['912-12-3456'],
    ['123-00-4567'],
    ['123-45-0000'],
    ['078-05-1120'],
    ['987-65-4321'],
    ['123-45-67890'],
  ])('does not take %s for an SSN', (text) => expect(found(`ssn ${text}.`)).toEqual([]));

  it.each([['AB 12 34 56 C'], ['AB123456C'], ['JG 10 32 80 A']])('finds the NI number %s', (nino) =>
    expectOnly(`NI ${nino}.`, 'uk-nino', nino),
  );

  it.each([['QQ123456C'], ['GB123456A'], ['AB123456E'], ['DA123456A'], ['AO123456B']])(
    'does not take %s for an NI number',
    (text) => expect(found(`NI ${text}.`)).toEqual([]),
  );

  it.each([['12345678Z'], ['12345678-Z'], ['X1234567L']])('finds the Spanish id %s', (id) =>
    expectOnly(`DNI ${id}.`, 'es-dni', id),
  );

  it.each([['12345678A'], ['X1234567A'], ['123456789Z']])('does not take %s for a Spanish id', (text) =>
    expect(found(`DNI ${text}.`)).toEqual([]),
  );

  it('finds a French NIR with a valid key, not one with a wrong key', () => {
    expectOnly('NIR 1 85 05 78 006 084 91.', 'fr-nir', '1 85 05 78 006 084 91');
    expectOnly('NIR 185057800608491.', 'fr-nir', '185057800608491');
    expect(found('NIR 1 85 05 78 006 084 92.')).toEqual([]);
  });
});

describe('built-in secret detectors', () => {
  it.each([
    ['openai-key', openaiProjectKey],
    ['openai-key', openaiLegacyKey],
    ['anthropic-key', anthropicKey],
    ['aws-access-key', 'AKIAIOSFODNN7EXAMPLE'],
    ['aws-access-key', 'ASIAY34FZKBOKMUTVV7A'],
    ['github-token', githubClassic],
    ['github-token', githubFineGrained],
    ['slack-token', slackToken],
    ['google-api-key', googleKey],
    ['stripe-key', stripeKey],
    ['stripe-key', `rk_live_${random36.slice(0, 24)}`],
    ['jwt', jwt],
    ['private-key', privateKey],
    ['private-key', `-----BEGIN OPENSSH PRIVATE KEY-----\n${pemBody}-----END OPENSSH PRIVATE KEY-----`],
    ['private-key', `-----BEGIN PRIVATE KEY-----\n${pemBody}-----END PRIVATE KEY-----`],
  ])('finds a %s', (detector, secret) => expectOnly(`here: ${secret}\nbye`, detector, secret));

  it('finds a bearer token with the word Bearer, whatever the token', () => {
    expectOnly('curl -H "Authorization: Bearer abc123def456ghi789" …', 'bearer', 'Bearer abc123def456ghi789');
    expectOnly(`Authorization: Bearer ${jwt}\n`, 'bearer', `Bearer ${jwt}`);
  });

  it('covers a private key cut before its END line up to where its base64 stops', () => {
    const truncated = `-----BEGIN EC PRIVATE KEY-----\n${pemBody}`;
    expectOnly(`${truncated}!`, 'private-key', truncated);
  });

  it.each([
    ['a UUID', '550e8400-e29b-41d4-a716-446655440000'],
    ['a git commit hash', 'da39a3ee5e6b4b0d3255bfef95601890afd80709'],
    ['a hyphenated word after sk-', 'sk-learn-is-a-python-library-for-ml'],
    ['a short sk- string', 'sk-abc123'],
    ['a test Stripe key', `sk_test_${random36.slice(0, 24)}`],
    ['a short AWS-like id', 'AKIA1234567'],
    ['an AWS-like id with a longer tail', 'AKIAIOSFODNN7EXAMPLEXY'],
    ['a short GitHub prefix', 'ghp_short'],
    ['a Slack-like word', 'xoxo-hugs-and-kisses'],
    ['a truncated Google key', `AIza${random36.slice(0, 20)}`],
    ['three base64url parts without a JWT header', 'eyJub3QiOiJqd3QifQ.eyJzdWIiOiIxIn0.c2ln'],
    ['a public key block', `-----BEGIN PUBLIC KEY-----\n${pemBody}-----END PUBLIC KEY-----`],
    ['Bearer in prose', 'Bearer authentication is a scheme'],
    ['a base64 blob', 'aGVsbG8gd29ybGQgdGhpcyBpcyBhIHRlc3Q='],
  ])('does not take %s for a secret', (_name, text) => expect(found(`value: ${text} end`)).toEqual([]));
});

describe('detector groups', () => {
  it('groups PII and secrets, and indexes every built-in by id', () => {
    expect(piiDetectors.every((detector) => detector.kind === 'pii')).toBe(true);
    expect(secretDetectors.every((detector) => detector.kind === 'secret')).toBe(true);
    expect(defaultDetectors).toHaveLength(piiDetectors.length + secretDetectors.length);
    for (const detector of defaultDetectors) expect(detectorsById[detector.id]).toBe(detector);
    expect(Object.keys(detectorsById).sort()).toEqual(
      [
        'email',
        'phone',
        'card',
        'iban',
        'us-ssn',
        'uk-nino',
        'es-dni',
        'fr-nir',
        'openai-key',
        'anthropic-key',
        'aws-access-key',
        'github-token',
        'slack-token',
        'google-api-key',
        'stripe-key',
        'private-key',
        'jwt',
        'bearer',
      ].sort(),
    );
  });

  it('declares, for every detector, a maxLength no match exceeds and a global pattern', () => {
    const long = `${'4111 1111 1111 1111 '.repeat(5)}${openaiProjectKey} ${privateKey} ${jwt} ana@example.com`;
    for (const detector of defaultDetectors) {
      expect(detector.pattern.global).toBe(true);
      expect(Number.isFinite(detector.maxLength)).toBe(true);
      for (const match of long.matchAll(detector.pattern))
        expect(match[0].length).toBeLessThanOrEqual(detector.maxLength);
    }
  });
});
