// The independent oracle for doctor's IAM evaluation (tests/iam_oracle.rs): reads a JSON array
// of {id, simulation} on stdin, where simulation is @cloud-copilot/iam-simulate's input, and
// writes a JSON array of {id, result, ignored} ("Allowed", "ExplicitlyDenied",
// "ImplicitlyDenied"; the context keys the simulator did not consider) or {id, error}.
import { runSimulation } from '@cloud-copilot/iam-simulate'

let text = ''
for await (const chunk of process.stdin) text += chunk
const out = []
for (const { id, simulation } of JSON.parse(text)) {
  const r = await runSimulation(simulation, {})
  if (r.resultType === 'error') {
    out.push({ id, error: r.errors })
  } else {
    const ignored = r.resultType === 'single' ? r.result.ignoredContextKeys : []
    out.push({ id, result: r.overallResult, ignored })
  }
}
process.stdout.write(JSON.stringify(out))
