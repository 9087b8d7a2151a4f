// Renders chat templates with @huggingface/jinja (the reference of chattmpl's tests): reads
// [{template, context}] as JSON on stdin, prints [{out} | {err}] as JSON.
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
const { Template } = await import(pathToFileURL(process.argv[2]).href);
const cases = JSON.parse(readFileSync(0, "utf8"));
const out = cases.map(({ template, context }) => {
	try {
		return { out: new Template(template).render(context) };
	} catch (e) {
		return { err: String(e && e.message || e) };
	}
});
process.stdout.write(JSON.stringify(out));
