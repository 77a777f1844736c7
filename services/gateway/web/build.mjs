// Builds the vendored libraries of the web console into static/vendor/ from
// the npm packages pinned in package.json (package-lock.json pins the rest):
//
//   npm ci && npm run build     rewrite static/vendor/
//   npm ci && npm run check     rebuild in memory; fail if static/vendor/ differs
//
// The built files are committed, so running the suite needs neither Node nor
// npm. Every package whose code lands in a built file has its licence copied
// beside it (static/vendor/LICENSES/).
import { build } from "esbuild";
import { readFileSync, writeFileSync, mkdirSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const vendor = join(here, "static", "vendor");
const checking = process.argv.includes("--check");

const versionOf = (pkg) =>
  JSON.parse(readFileSync(join(here, "node_modules", pkg, "package.json"), "utf8")).version;

const echartsVersion = versionOf("echarts");
const padVersion = versionOf("signature_pad");

async function echartsBundle() {
  const result = await build({
    entryPoints: [join(here, "echarts-entry.js")],
    bundle: true,
    format: "esm",
    minify: true,
    target: "es2020",
    legalComments: "none",
    metafile: true,
    write: false,
    banner: {
      js: `/*! Apache ECharts ${echartsVersion}, custom build (bar, line, grid, canvas) | ` +
        "Apache-2.0 | https://echarts.apache.org | includes ZRender (BSD-3-Clause) and tslib " +
        "(0BSD) and parts of d3 (BSD-3-Clause): see LICENSES/ */",
    },
  });
  const packages = new Set(Object.keys(result.metafile.inputs)
    .filter((path) => path.includes("node_modules/"))
    .map((path) => path.split("node_modules/")[1].split("/")[0]));
  return { text: result.outputFiles[0].text, packages };
}

function signaturePad() {
  // The package's own minified ES module, without the source-map reference
  // (the map is not shipped).
  const text = readFileSync(join(here, "node_modules", "signature_pad", "dist",
    "signature_pad.min.js"), "utf8");
  return text.replace(/\n?\/\/# sourceMappingURL=.*\s*$/, "\n");
}

const LICENCES = {
  echarts: ["LICENSE", "NOTICE", "licenses/LICENSE-d3"],  // d3: src/util/number.ts
  zrender: ["LICENSE"],
  tslib: ["LICENSE.txt", "CopyrightNotice.txt"],
  signature_pad: ["LICENSE"],
};

function licenceFiles(packages) {
  const files = {};
  for (const pkg of packages) {
    const names = LICENCES[pkg];
    if (!names) {
      throw new Error(`${pkg} is bundled but its licence is not listed in build.mjs`);
    }
    for (const name of names) {
      const source = join(here, "node_modules", pkg, name);
      const target = `${pkg}-${versionOf(pkg)}-${name.split("/").pop().replace(/\.txt$/, "")}.txt`;
      files[join("LICENSES", target)] = readFileSync(source, "utf8");
    }
  }
  return files;
}

const { text: echarts, packages } = await echartsBundle();
const outputs = {
  [`echarts-${echartsVersion}.custom.min.js`]: echarts,
  [`signature_pad-${padVersion}.min.js`]: signaturePad(),
  ...licenceFiles([...packages, "signature_pad"]),
};

let stale = 0;
for (const [name, text] of Object.entries(outputs)) {
  const path = join(vendor, name);
  if (checking) {
    if (!existsSync(path) || readFileSync(path, "utf8") !== text) {
      console.error(`differs from a fresh build: static/vendor/${name}`);
      stale += 1;
    }
    continue;
  }
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  console.log(`static/vendor/${name}  ${(Buffer.byteLength(text) / 1024).toFixed(1)} KB`);
}
if (stale) {
  console.error(`${stale} vendored file(s) are stale: run \`npm ci && npm run build\``);
  process.exit(1);
}
if (checking) console.log("static/vendor/ matches a fresh build");
