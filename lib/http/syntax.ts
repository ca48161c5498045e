/**
 * Byte classes of RFC 9110 field syntax and RFC 9112 request targets, as lookup tables.
 *
 * @module
 */

/** 1 where a byte is a `tchar` (RFC 9110 §5.6.2), else 0. */
export const TOKEN: Uint8Array = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~") TOKEN[c.charCodeAt(0)] = 1;
for (let c = 0x30; c <= 0x39; c++) TOKEN[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) TOKEN[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) TOKEN[c] = 1;

/** 1 where a byte may appear in a field value: VCHAR, obs-text, SP and HTAB. */
export const FIELD_VALUE: Uint8Array = new Uint8Array(256);
for (let c = 0x20; c <= 0x7e; c++) FIELD_VALUE[c] = 1;
for (let c = 0x80; c <= 0xff; c++) FIELD_VALUE[c] = 1;
FIELD_VALUE[0x09] = 1;

/** 1 where a byte may appear in a request-target: visible ASCII. */
export const TARGET: Uint8Array = new Uint8Array(256);
for (let c = 0x21; c <= 0x7e; c++) TARGET[c] = 1;

/** 1 where a byte may appear in a Host value: URI host characters and `:` for the port. */
export const HOST: Uint8Array = new Uint8Array(256);
for (const c of "-._~!$&'()*+,;=:%[]") HOST[c.charCodeAt(0)] = 1;
for (let c = 0x30; c <= 0x39; c++) HOST[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) HOST[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) HOST[c] = 1;
