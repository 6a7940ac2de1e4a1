// umbra/ml — scikit-learn-style models trained in the clear and predicting on encrypted data, built on the
// compiler's public API (no cryptography here): fit, compile, predict(X, { fhe: "execute" }).
export { MlInputError, NotFittedError, MlUnsupportedError } from "./errors.js";
export { type Matrix, type MatrixLike, toMatrix } from "./data.js";
export { AffineQuantizer, type AffineQuantizerJSON, type QuantizeReport, quantizeSymmetric } from "./quantize.js";
export { type FheMode, type PredictOptions, type MlCompileOptions, type Progress } from "./fhe.js";
export { accuracy, r2Score, d2Score } from "./metrics.js";
export { type Label, type Link, type Dequantizer } from "./decode.js";
export { ModelClient, MODEL_CLIENT_FORMAT, type ModelClientSpec, type Deployment, type EncryptedRows, type EncoderSpec } from "./deploy.js";
export { type LinearOptions, type LinearModelJSON } from "./linear/base.js";
export {
  LinearRegression, Ridge, Lasso, ElasticNet, LinearSVR, LogisticRegression, LinearSVC, PoissonRegressor, GammaRegressor,
  type RidgeOptions, type GlmOptions,
  type ElasticNetOptions, type LinearSVROptions, type LogisticRegressionOptions, type LinearSVCOptions,
} from "./linear/models.js";
export { type TreeModelJSON, type FeatureEncoder } from "./trees/base.js";
export {
  DecisionTreeClassifier, DecisionTreeRegressor, RandomForestClassifier, RandomForestRegressor, XGBClassifier, XGBRegressor,
  type TreeOptions, type ForestOptions, type BoostingOptions,
} from "./trees/models.js";
export { importXGBoost, XGBoostModel, RankEncoder, type RankEncoderJSON } from "./trees/xgboost.js";
export { NeuralNetClassifier, NeuralNetRegressor, type NeuralNetOptions, type NeuralNetJSON } from "./nn/models.js";
export { importOnnx, OnnxModel, ONNX_PTQ_DEFAULTS, type OnnxImportOptions, type OnnxReadOptions, type OnnxCompileOptions, type OnnxBits } from "./onnx/model.js";
export { SUPPORTED_OPS as ONNX_SUPPORTED_OPS } from "./onnx/graph.js";
export { OnnxTreeModel } from "./onnx/trees.js";
export { OnnxTensorModel, type TensorSamples } from "./onnx/tensor-model.js";
export { KNeighborsClassifier, type KNeighborsOptions, type KNeighborsJSON } from "./knn.js";
