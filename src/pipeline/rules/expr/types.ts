/**
 * Static types of the expression checker, as bit sets: a value whose type is not known in advance
 * (a free-form attribute) has every bit set.
 */
export const NUM = 1;
export const STR = 2;
export const BOOL = 4;
export const NULL = 8;
export const LIST = 16;
export const OBJ = 32;
export const ANY = NUM | STR | BOOL | NULL | LIST | OBJ;

export type TypeMask = number;

const NAMES: [TypeMask, string][] = [
  [NUM, 'a number'],
  [STR, 'a string'],
  [BOOL, 'true/false'],
  [LIST, 'a list'],
  [OBJ, 'an object'],
  [NULL, 'null'],
];

/** `a string or null`, `any value`. */
export function describeType(mask: TypeMask): string {
  if (mask === ANY) return 'any value';
  const parts = NAMES.filter(([bit]) => (mask & bit) !== 0).map(([, name]) => name);
  if (parts.length <= 1) return parts[0] ?? 'nothing';
  return `${parts.slice(0, -1).join(', ')} or ${parts[parts.length - 1]}`;
}

/** True when a value of type `mask` can be one of `allowed`. */
export function allows(mask: TypeMask, allowed: TypeMask): boolean {
  return (mask & allowed) !== 0;
}

/** The single non-null type of `mask`, or 0 when it may be several. */
export function definite(mask: TypeMask): TypeMask {
  const m = mask & ~NULL;
  return m !== 0 && (m & (m - 1)) === 0 ? m : 0;
}
