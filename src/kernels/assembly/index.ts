// Entry point of the WebAssembly kernels: everything exported here is callable from TypeScript.
export { alloc, dealloc, memoryPages } from "./memory";
export {
  fftInit, fftForwardI64, fftForwardF64, fftBackwardAddTorus, fftBackwardToI64, fourierMulAcc, fourierMul, fftForwardDigits,
  fourierCombine,
} from "./fft";
export { decomposePolyF64 } from "./decompose";
export { polyRotate, polyMulSmallAdd, polyMulNaive } from "./polynomial";
export {
  blindRotateScratchBytes, fftForwardManyI64, modulusSwitch, blindRotate, blindRotateInit, blindRotateBatchScratchBytes,
  blindRotateBatch, cmuxStep, sampleExtract,
  externalProductScratchBytes, externalProduct,
} from "./bootstrap";
export {
  multiBitInit, multiBitScratchBytes, multiBitModulusSwitch, multiBitStep, multiBitAccInit, multiBitBlindRotateBatch,
} from "./multibit";
export { keyswitchRowWords32, keyswitchInit32, keyswitchRange32, keyswitchFinish32, keyswitchKeyTo32 } from "./keyswitch";
export { addAssign, subAssign, scalarMulAssign, mulAddAssign, matmul, dot, batchPhase, batchSetBody } from "./lwe";
export { chacha20Blocks } from "./chacha20";
