// The HTTP headers of umbra's protocol that carry key ids and deletion tokens (shared by the server and
// the browser-safe client).
export const KEY_ID_HEADER = "x-umbra-key-id";
export const KEY_TOKEN_HEADER = "x-umbra-key-token";
