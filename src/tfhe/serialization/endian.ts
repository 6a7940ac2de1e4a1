// Byte order of the platform's typed arrays. The format is little-endian; on a little-endian platform
// (every mainstream one) u64 arrays are copied as raw bytes, elsewhere word by word through a DataView.
export const LITTLE_ENDIAN_PLATFORM = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
