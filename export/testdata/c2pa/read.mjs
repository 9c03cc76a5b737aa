// read.mjs MODULES FILE MIME TRUST_ANCHORS
//
// Reads and validates the C2PA manifest store of FILE with @contentauth/c2pa-wasm
// against the given trust anchors, offline, and prints one JSON object:
// {"validation_state": ..., "active": <the active manifest>, "status": [...],
// "manifests": <every manifest of the store, by label>}.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const [modules, file, mime, anchors] = process.argv.slice(2);
const pkg = join(modules, "@contentauth/c2pa-wasm/pkg");
const wasm = await import(pathToFileURL(join(pkg, "c2pa.js")).href);
wasm.initSync({ module: readFileSync(join(pkg, "c2pa_bg.wasm")) });

// Settings go unwrapped: wrapped in {settings: ...} they are silently ignored.
const settings = {
  verify: { remote_manifest_fetch: false, ocsp_fetch: false },
  trust: { trust_anchors: readFileSync(anchors, "utf8") },
};
const reader = await wasm.WasmReader.fromBytes(mime, new Uint8Array(readFileSync(file)), JSON.stringify(settings));
const store = JSON.parse(reader.json());
const active = store.manifests[store.active_manifest];
console.log(JSON.stringify({
  validation_state: store.validation_state,
  status: store.validation_status ?? [],
  results: store.validation_results ?? null,
  active,
  active_label: store.active_manifest,
  manifests: store.manifests,
}));
