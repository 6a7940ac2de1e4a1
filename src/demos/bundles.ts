// All the demo's bundles in one directory, as `umbra serve` loads them: the diagnosis model and one
// circuit per image filter (ModelDev.save; one subdirectory each, named by its id).
import { join } from "node:path";
import { ModelDev } from "../deploy/index.js";
import { FILTERS, IMAGE_SIZE, filterModelId } from "./filters.js";
import { compileFilter } from "./filter-circuits.js";
import { DIAGNOSIS_MODEL_ID, trainDiagnosisModel } from "./health.js";

export interface DemoBundle {
  readonly id: string;
  readonly fingerprint: string;
  readonly parameters: string;
  readonly linearOnly: boolean;
  /** Time to train and/or compile, ms. */
  readonly ms: number;
}

export interface DemoBundleOptions {
  /** Side of the filters' square images (default IMAGE_SIZE). */
  readonly imageSize?: number;
  readonly log?: (line: string) => void;
}

/** Writes the demo's bundles under `dir` (created). */
export async function writeDemoBundles(dir: string, options: DemoBundleOptions = {}): Promise<DemoBundle[]> {
  const size = options.imageSize ?? IMAGE_SIZE;
  const out: DemoBundle[] = [];
  const save = async (id: string, t0: number, deployable: Parameters<typeof ModelDev.save>[0]): Promise<void> => {
    const b = await ModelDev.save(deployable, join(dir, id), { id });
    out.push({ id, fingerprint: b.fingerprint, parameters: b.parameters, linearOnly: b.linearOnly, ms: performance.now() - t0 });
    options.log?.(`demo: ${id} ready (${b.linearOnly ? "no lookups" : "lookups"}, parameters ${b.parameters}) in ${(performance.now() - t0).toFixed(0)} ms`);
  };
  let t = performance.now();
  const model = trainDiagnosisModel();
  try {
    await save(DIAGNOSIS_MODEL_ID, t, model);
  } finally {
    await model.close();
  }
  for (const f of FILTERS) {
    t = performance.now();
    const circuit = compileFilter(f, size);
    try {
      await save(filterModelId(f.id), t, circuit);
    } finally {
      await circuit.close();
    }
  }
  return out;
}
