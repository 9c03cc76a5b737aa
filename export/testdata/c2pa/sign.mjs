// sign.mjs MODULES DIR INPUT OUTPUT CERTS KEY
//
// Signs the manifest definition DIR/manifest.json (written by cairn export --c2pa)
// onto INPUT and writes OUTPUT, with @contentauth/c2pa-node. Every resource the
// definition names by "identifier" is read from DIR. When INPUT has Content
// Credentials of its own, cairn writes DIR/parent-ingredient.json, and it is added
// from INPUT itself as the parent ingredient: the SDK then copies INPUT's
// manifests into the new store. MODULES is the node_modules directory the package
// was installed into (outside the repository).
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const [modules, dir, input, output, certs, key] = process.argv.slice(2);
const { Builder, LocalSigner } = await import(
  pathToFileURL(join(modules, "@contentauth/c2pa-node/dist/index.js")).href
);

const def = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8"));
const builder = Builder.withJson(def);

// Resources are referenced by relative name; collect each name once.
const names = new Set();
(function walk(v) {
  if (Array.isArray(v)) return v.forEach(walk);
  if (v && typeof v === "object") {
    if (typeof v.identifier === "string" && typeof v.format === "string") names.add(v.identifier);
    Object.values(v).forEach(walk);
  }
})(def);
for (const name of names) {
  if (name.includes("/") || name.startsWith(".")) throw new Error(`resource ${name}: not a plain file name`);
  await builder.addResource(name, { buffer: readFileSync(join(dir, name)), mimeType: "application/octet-stream" });
}

const parent = join(dir, "parent-ingredient.json");
if (existsSync(parent)) {
  await builder.addIngredient(readFileSync(parent, "utf8"), { path: input, mimeType: def.format });
}

const signer = LocalSigner.newSigner(readFileSync(certs), readFileSync(key), "es256");
// The stored file has no extension; the definition's format names its type.
builder.sign(signer, { path: input, mimeType: def.format }, { path: output });
console.log(`signed ${output} (${names.size} resources)`);
