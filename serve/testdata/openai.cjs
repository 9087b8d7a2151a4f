// Runs the official openai npm client against a tern server (serve/openai_test.go): chat and
// completions, streamed and not, and two errors; prints one JSON object with what came back.
const OpenAI = require('openai');

async function main() {
  const base = process.env.TERN_URL;
  const client = new OpenAI({ baseURL: base, apiKey: process.env.TERN_KEY, maxRetries: 0, timeout: 20000 });
  const out = {};
  const messages = [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi' }];
  out.chat = await client.chat.completions.create({ model: 'fake', messages, max_tokens: 12, temperature: 0, seed: 1 });
  const stream = await client.chat.completions.create({ model: 'fake', messages, max_tokens: 40, stop: ['STOP'], stream: true, stream_options: { include_usage: true } });
  out.chatChunks = [];
  for await (const chunk of stream) out.chatChunks.push(chunk);
  out.completion = await client.completions.create({ model: 'fake', prompt: 'Once', max_tokens: 12, temperature: 0 });
  const cs = await client.completions.create({ model: 'fake', prompt: 'Once', max_tokens: 12, stream: true });
  out.completionChunks = [];
  for await (const chunk of cs) out.completionChunks.push(chunk);
  out.models = await client.models.list();
  out.errors = [];
  const bad = new OpenAI({ baseURL: base, apiKey: 'sk-not-the-key', maxRetries: 0 });
  for (const [name, f] of [
    ['wrong key', () => bad.chat.completions.create({ model: 'fake', messages })],
    ['unknown role', () => client.chat.completions.create({ model: 'fake', messages: [{ role: 'wizard', content: 'x' }] })],
    ['unknown model', () => client.completions.create({ model: 'gpt-4', prompt: 'x' })],
  ]) {
    try {
      await f();
      out.errors.push({ name, status: 0 });
    } catch (e) {
      out.errors.push({ name, status: e.status, class: e.constructor.name, message: e.message, type: e.type });
    }
  }
  process.stdout.write(JSON.stringify(out));
}

main().catch((e) => { console.error(e); process.exit(1); });
