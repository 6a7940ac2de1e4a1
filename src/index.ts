// umbra — FHE (TFHE) for TypeScript. Subpath entries: `umbra/tfhe` (the core).
export * from "./tfhe/index.js";
