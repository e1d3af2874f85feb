import { isUtf8 } from 'node:buffer';
import { ApiError, errorCatalogue } from '../errors/catalogue.js';

/**
 * A request body as text, refusing bytes that are not UTF-8. JSON must travel as
 * UTF-8 (RFC 8259 §8.1); decoding leniently would turn a stray byte into U+FFFD
 * and run the request on text the client never sent.
 */
export function utf8BodyText(body: Buffer): string {
  if (isUtf8(body)) return body.toString('utf8');
  const offset = firstInvalidUtf8Byte(body);
  throw new ApiError(
    errorCatalogue.invalidJson,
    `The request body is not valid UTF-8 (byte ${offset} is 0x${(body[offset] ?? 0).toString(16).padStart(2, '0')}). Send JSON encoded as UTF-8.`,
  );
}

/** The offset of the first byte that does not start or continue a well-formed UTF-8 sequence. */
export function firstInvalidUtf8Byte(bytes: Uint8Array): number {
  let index = 0;
  while (index < bytes.length) {
    const lead = bytes[index] ?? 0;
    const length =
      lead < 0x80
        ? 1
        : lead >= 0xc2 && lead <= 0xdf
          ? 2
          : lead >= 0xe0 && lead <= 0xef
            ? 3
            : lead >= 0xf0 && lead <= 0xf4
              ? 4
              : 0;
    if (length === 0) return index;
    for (let next = 1; next < length; next++) {
      const byte = bytes[index + next];
      if (byte === undefined || byte < 0x80 || byte > 0xbf) return index;
    }
    // Overlong three-byte forms, UTF-16 surrogates and code points past U+10FFFF.
    const second = bytes[index + 1] ?? 0;
    if (
      (lead === 0xe0 && second < 0xa0) ||
      (lead === 0xed && second > 0x9f) ||
      (lead === 0xf0 && second < 0x90) ||
      (lead === 0xf4 && second > 0x8f)
    )
      return index;
    index += length;
  }
  return bytes.length;
}
