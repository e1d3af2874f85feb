import { describe, expect, it } from 'vitest';
import { firstInvalidUtf8Byte, utf8BodyText } from './utf8-body.js';

describe('utf8BodyText', () => {
  it('decodes UTF-8, multi-byte characters included', () => {
    expect(utf8BodyText(Buffer.from('{"a":"ß😀"}'))).toBe('{"a":"ß😀"}');
  });

  it.each([
    ['a lone 0xff', [0x61, 0xff], 1],
    ['a lead byte without its continuation', [0x61, 0x62, 0xc3, 0x28], 2],
    ['a sequence cut short at the end', [0xe2, 0x82], 0],
    ['an overlong form', [0x61, 0xc0, 0xaf], 1],
    ['a UTF-16 surrogate', [0xed, 0xa0, 0x80], 0],
    ['a code point past U+10FFFF', [0xf4, 0x90, 0x80, 0x80], 0],
  ])('refuses %s, naming its offset', (_label, bytes, offset) => {
    expect(firstInvalidUtf8Byte(Uint8Array.from(bytes))).toBe(offset);
    expect(() => utf8BodyText(Buffer.from(bytes))).toThrow(`byte ${offset} is`);
  });
});
