// Drives Debian's Chromium through aduan's GraphiQL page as a person would:
// loads it, opens the documentation explorer, finds the Query fields, puts a
// token in the Headers editor, runs a query and reads the result pane; then,
// with --subscription, runs a subscription from the same editor (over the
// page's WebSocket, the token from the Headers editor in connection_init) and
// waits for a notice to show in the result pane.
// Fails (exit 1, reason on stderr) on any request to another host, any script
// error or Content-Security-Policy violation on the page.
//
// Usage: node graphiql.mjs <page URL> <bearer token> <query> <expected fields...>
//          [--subscription <document>]
// Prints one JSON object a line on stdout: {"query": <result pane>}; with
// --subscription then {"subscribed": true} once GraphiQL has sent the
// subscription on its WebSocket (the caller then changes something), and
// {"notice": <result pane>} once a notice shows. ADUAN_CHROMIUM overrides the
// browser.
import { chromium } from 'playwright-core';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const args = process.argv.slice(2);
const flag = args.indexOf('--subscription');
const subscription = flag >= 0 ? args.splice(flag, 2)[1] : undefined;
const [pageUrl, token, query, ...fields] = args;
if (!pageUrl || !token || !query || fields.length === 0 || (flag >= 0 && !subscription)) {
  console.error('usage: node graphiql.mjs <page URL> <token> <query> <expected fields...> [--subscription <document>]');
  process.exit(2);
}
const origin = new URL(pageUrl).origin;
const STEP_MS = 20_000;

const problems = [];
const requests = [];
const introspections = [];
// What GraphiQL sent and received on its WebSocket(s), for the subscription
// step and for the failure message.
const frames = [];

function fail(message) {
  throw new Error(message);
}

// Reads a CodeMirror 5 editor's text (GraphiQL 4 keeps the instance on its
// wrapper element).
async function editorText(locator) {
  return locator.evaluate((el) => el.CodeMirror.getValue());
}

// Waits until the result pane holds JSON that `wanted` accepts; returns it.
async function resultPane(page, wanted, what) {
  const result = page.locator('.result-window .CodeMirror');
  let shown = '';
  const deadline = Date.now() + STEP_MS;
  while (Date.now() < deadline) {
    shown = await editorText(result).catch(() => '');
    try {
      const json = JSON.parse(shown);
      if (wanted(json)) return json;
    } catch {
      // Empty, or not JSON yet.
    }
    await page.waitForTimeout(100);
  }
  fail(`the result pane did not show ${what}; it shows ${JSON.stringify(shown)}`);
}

function print(line) {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

let browser;
try {
  const executablePath = process.env.ADUAN_CHROMIUM || '/usr/bin/chromium';
  try {
    browser = await chromium.launch({
      executablePath,
      headless: true,
      // Root in a container has no user namespace sandbox.
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
      timeout: 30_000,
    });
  } catch (e) {
    fail(`cannot start Chromium at ${executablePath} (scripts/ensure-chromium installs it): ${e.message}`);
  }
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  // Nothing may leave the server: any other host is refused and reported.
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith('data:') || new URL(url).origin === origin) return route.continue();
    problems.push(`request to another host: ${url}`);
    return route.abort('blockedbyclient');
  });
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI}`);
    });
  });
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_MS);
  page.on('request', (r) => requests.push(r.url()));
  page.on('websocket', (ws) => {
    if (new URL(ws.url()).host !== new URL(origin).host) problems.push(`WebSocket to another host: ${ws.url()}`);
    ws.on('framesent', (f) => frames.push(`sent ${f.payload}`));
    ws.on('framereceived', (f) => frames.push(`received ${f.payload}`));
    ws.on('close', () => frames.push('closed'));
  });
  page.on('pageerror', (e) => problems.push(`script error on the page: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
  });
  page.on('response', async (r) => {
    const body = r.request().postData() || '';
    if (body.includes('IntrospectionQuery')) {
      introspections.push(`HTTP ${r.status()}: ${(await r.text().catch(() => '')).slice(0, 300)}`);
    }
  });

  const response = await page.goto(pageUrl);
  if (!response || response.status() !== 200) fail(`GET ${pageUrl} answered ${response && response.status()}`);
  await page.locator('.graphiql-container').waitFor().catch(() => fail('GraphiQL did not render'));

  // The documentation explorer, from the schema GraphiQL introspected.
  await page.getByRole('button', { name: 'Show Documentation Explorer' }).click();
  const explorer = page.locator('.graphiql-doc-explorer');
  // Either the root types or GraphiQL's error, whichever comes first.
  const rootType = explorer.locator('a.graphiql-doc-explorer-type-name').first();
  await rootType.or(explorer.locator('.graphiql-doc-explorer-error')).first().waitFor().catch(() => {});
  try {
    await rootType.click({ timeout: 1000 });
  } catch {
    fail(`the documentation explorer shows no root type: ${JSON.stringify(await explorer.innerText().catch(() => ''))}; introspection: ${introspections.join(' | ') || 'none sent'}`);
  }
  await explorer.locator('.graphiql-doc-explorer-field-name').first().waitFor();
  const listed = await explorer.locator('.graphiql-doc-explorer-field-name').allInnerTexts();
  const missing = fields.filter((f) => !listed.includes(f));
  if (missing.length) fail(`the documentation explorer lacks Query fields ${missing.join(', ')}; it lists ${listed.join(', ')}`);

  // The token, typed into the Headers editor (GraphiQL closes brackets and
  // quotes as they are typed, so the closing ones are typed over).
  await page.getByRole('button', { name: 'Headers' }).click();
  const headers = page.locator('.graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror');
  await headers.click();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  await page.keyboard.type(`{"Authorization": "Bearer ${token}"}`);
  const typed = await editorText(headers);
  try {
    if (JSON.parse(typed).Authorization !== `Bearer ${token}`) throw new Error();
  } catch {
    fail(`the Headers editor holds ${JSON.stringify(typed)}, not the token`);
  }

  // The query, set in the query editor (typing would pop up completions).
  const editor = page.locator('.graphiql-query-editor .CodeMirror');
  await editor.evaluate((el, q) => el.CodeMirror.setValue(q), query);
  await page.getByRole('button', { name: /^Execute query/ }).click();
  const queried = await resultPane(page, () => true, 'a result');
  print({ query: queried });

  if (subscription) {
    // The same editor and button: GraphiQL sends a subscription over its
    // WebSocket (graphql-transport-ws), the Headers editor's token in
    // connection_init.
    await editor.evaluate((el, q) => el.CodeMirror.setValue(q), subscription);
    // GraphiQL re-parses the editor's document a moment after an edit, and
    // picks the transport from the parsed operation: clicked before that, it
    // would send the subscription over HTTP as the previous document's query.
    await page.waitForTimeout(1000);
    await page.getByRole('button', { name: /^Execute query/ }).click();
    const deadline = Date.now() + STEP_MS;
    while (!frames.some((f) => f.startsWith('sent ') && f.includes('"subscribe"'))) {
      if (Date.now() > deadline) fail(`GraphiQL sent no subscription on a WebSocket; frames: ${frames.join(' | ') || 'none'}`);
      await page.waitForTimeout(50);
    }
    print({ subscribed: true });
    // Until the first notice the pane still shows the query's result.
    const notice = await resultPane(
      page,
      (json) => JSON.stringify(json) !== JSON.stringify(queried) && json?.data && Object.values(json.data).some((v) => v !== null),
      'a notice',
    ).catch((e) => fail(`${e.message}; WebSocket frames: ${frames.join(' | ')}`));
    print({ notice });
  }

  const elsewhere = requests.filter((u) => !u.startsWith('data:') && new URL(u).origin !== origin);
  for (const u of elsewhere) problems.push(`request to another host: ${u}`);
  if (problems.length) fail([...new Set(problems)].join('\n'));
  await browser.close();
} catch (e) {
  const shot = join(tmpdir(), `aduan-graphiql-${Date.now()}.png`);
  const pages = browser ? browser.contexts().flatMap((c) => c.pages()) : [];
  if (pages.length) {
    await pages[0].screenshot({ path: shot }).then(() => console.error(`screenshot: ${shot}`)).catch(() => {});
  }
  if (problems.length && !e.message.includes(problems[0])) console.error(problems.join('\n'));
  console.error(e.message);
  if (browser) await browser.close().catch(() => {});
  process.exit(1);
}
