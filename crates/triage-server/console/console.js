// triage console: agent and admin views over the /v1 API. Plain JavaScript, no dependencies,
// no inline script (the page's Content-Security-Policy forbids it). Text from the API is only
// ever put in the page as text nodes; search snippets are split on <b> marks and rebuilt.
'use strict';

const KEY_STORE = 'triage.key';
const TENANT_STORE = 'triage.tenant';
const HEADS_ORDER = ['category', 'priority', 'assignment_group'];
const DECISION_TEXT = {
  auto: 'confident: can be applied without checking',
  suggest: 'likely: check before applying',
  abstain: 'not sure: decide yourself',
};
const OUTCOME_TEXT = { resolved: 'this fixed it', helpful: 'helpful', not_helpful: 'not helpful', corrected: 'labels corrected' };
const PALETTE = ['#1f5fbf', '#c2410c', '#15803d', '#7e22ce', '#b45309', '#0e7490'];

const state = {
  key: null,
  session: null,
  jobTimer: null,
  selectedModel: null,
  kbSort: { column: 'offered', descending: true },
  kbRows: [],
  outboxFilter: 'all',
  incidentFilter: 'open',
  incidentTimer: null,
  bannerShown: null,
};

// ---------- small DOM helpers ----------

const $ = (id) => document.getElementById(id);

/** Builds an element: h('p', {class: 'x', onclick: f}, 'text', child). Strings become text nodes. */
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

/** Builds an SVG element the same way. */
function s(tag, attrs, ...children) {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

function setAttrs(el, attrs) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

const pct = (x, digits = 0) => (x === null || x === undefined ? '–' : `${(x * 100).toFixed(digits)}%`);
const num = (x, digits = 3) => (x === null || x === undefined ? '–' : Number(x).toFixed(digits));
const headName = (h) => h.replace(/_/g, ' ');

function meter(fraction, label) {
  const bar = h('span');
  bar.style.width = `${Math.max(0, Math.min(1, fraction || 0)) * 100}%`;
  return h('div', { class: 'meter', role: 'meter', 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': Math.round((fraction || 0) * 100), 'aria-label': label }, bar);
}

/** A snippet from the API (HTML-escaped text with <b> marks) as DOM, without using innerHTML on the page. */
function snippetNodes(snippet) {
  const decoder = document.createElement('textarea');
  const out = [];
  let bold = false;
  for (const part of String(snippet || '').split(/(<\/?b>)/)) {
    if (part === '<b>') { bold = true; continue; }
    if (part === '</b>') { bold = false; continue; }
    decoder.innerHTML = part.replace(/</g, '&lt;');
    const text = decoder.value;
    out.push(bold ? h('mark', null, text) : text);
  }
  return out;
}

// ---------- messages ----------

function showError(err) {
  const box = $('alert');
  clear(box);
  const message = err && err.message ? err.message : String(err);
  box.append(h('strong', null, err && err.title ? `${err.title}: ` : 'Error: '), message);
  if (err && err.code) box.append(' ', h('span', { class: 'code' }, `(${err.code})`));
  box.hidden = false;
}

function clearError() {
  $('alert').hidden = true;
  clear($('alert'));
}

function say(text) {
  $('status').textContent = text;
}

class ApiError extends Error {
  constructor(message, code, status, title) {
    super(message);
    this.code = code;
    this.status = status;
    this.title = title;
  }
}

/** Calls the API with the signed-in key; problem+json answers become ApiError with the API's detail and code. */
async function api(method, path, body, key = state.key) {
  const headers = { Authorization: `Bearer ${key}` };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
  } catch (e) {
    throw new ApiError('the service cannot be reached; check that it is running and try again', 'network', 0, 'No connection');
  }
  if (res.status === 204) return null;
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
  if (!res.ok) {
    const p = data || {};
    const err = new ApiError(p.detail || `the service answered HTTP ${res.status}`, p.code || `http_${res.status}`, res.status, p.title || 'Request failed');
    if (res.status === 401 && key === state.key && state.session) {
      signOut('Your key is no longer accepted (revoked or expired); sign in again.');
    }
    throw err;
  }
  return data;
}

/** Runs an async action with its button disabled; errors are shown, never swallowed. */
async function withBusy(button, action) {
  clearError();
  if (button) button.disabled = true;
  try {
    return await action();
  } catch (e) {
    showError(e);
    return undefined;
  } finally {
    if (button) button.disabled = false;
  }
}

function confirmDialog(title, text, okLabel = 'Confirm') {
  const dialog = $('confirm');
  $('confirm-title').textContent = title;
  $('confirm-text').textContent = text;
  $('confirm-ok').textContent = okLabel;
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true });
    dialog.returnValue = 'cancel';
    dialog.showModal();
    $('confirm-cancel').focus();
  });
}

// ---------- session ----------

const can = (what) => Boolean(state.session && state.session.can.includes(what));

function tenant() {
  return $('tenant-select').value || null;
}

function tenantQuery(prefix = '?') {
  const t = tenant();
  return t ? `${prefix}tenant=${encodeURIComponent(t)}` : '';
}

async function signIn(key) {
  const session = await api('GET', '/v1/session', undefined, key);
  state.key = key;
  state.session = session;
  sessionStorage.setItem(KEY_STORE, key);
  const select = clear($('tenant-select'));
  if (!session.tenant) select.append(h('option', { value: '' }, 'All tenants'));
  for (const t of session.tenants) select.append(h('option', { value: t.id }, t.name));
  const remembered = sessionStorage.getItem(TENANT_STORE);
  if (session.tenant) select.value = session.tenant;
  else if (remembered !== null && [...select.options].some((o) => o.value === remembered)) select.value = remembered;
  else if (session.tenants.length) select.value = session.tenants[0].id;
  select.disabled = Boolean(session.tenant);
  $('role-badge').textContent = session.tenant ? `${session.role} · ${session.tenant}` : session.role;
  $('who').hidden = false;
  buildNav();
  startIncidentBanner();
}

function signOut(message) {
  state.key = null;
  state.session = null;
  sessionStorage.removeItem(KEY_STORE);
  if (state.jobTimer) clearInterval(state.jobTimer);
  stopIncidentBanner();
  $('who').hidden = true;
  $('nav').hidden = true;
  clear($('triage-result'));
  if (message) showError(new ApiError(message, 'invalid_credentials', 401, 'Signed out'));
  location.hash = '#/signin';
  render();
}

const VIEWS = [
  { id: 'triage', title: 'Triage', allowed: () => can('triage') || can('feedback') },
  { id: 'kb', title: 'Knowledge base', allowed: () => can('search_kb') || can('read_stats') },
  { id: 'gaps', title: 'KB gaps', allowed: () => can('read_stats') },
  { id: 'models', title: 'Models', allowed: () => can('read_models') },
  { id: 'desk', title: 'Desk', allowed: () => can('read_stats') },
  { id: 'incidents', title: 'Incidents', allowed: () => can('read_incidents') },
  { id: 'connectors', title: 'Connectors', allowed: () => can('manage_connectors') },
  { id: 'audit', title: 'Audit log', allowed: () => can('read_audit') },
];

function buildNav() {
  const nav = clear($('nav'));
  for (const v of VIEWS.filter((v) => v.allowed())) nav.append(h('a', { href: `#/${v.id}`, id: `nav-${v.id}` }, v.title));
  nav.hidden = false;
}

// ---------- routing ----------

function route() {
  const parts = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  return { view: parts[0] || '', arg: parts[1] || null };
}

async function render() {
  const { view, arg } = route();
  for (const section of document.querySelectorAll('.view')) section.hidden = true;
  if (!state.session) {
    $('view-signin').hidden = false;
    document.title = 'Sign in · triage console';
    $('signin-key').focus();
    return;
  }
  const allowed = VIEWS.filter((v) => v.allowed());
  const current = allowed.find((v) => v.id === view) || allowed[0];
  if (!current) {
    showError(new ApiError('this key has no role the console can show (integration keys only triage through the API)', 'forbidden', 403, 'Nothing to show'));
    return;
  }
  if (current.id !== view) {
    location.replace(`#/${current.id}`);
    return;
  }
  for (const a of $('nav').querySelectorAll('a')) {
    if (a.id === `nav-${current.id}`) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  document.title = `${current.title} · triage console`;
  $(`view-${current.id}`).hidden = false;
  refreshIncidentBanner();
  const loaders = {
    triage: () => loadTriage(arg), kb: loadKb, gaps: loadGaps, models: loadModels, desk: loadDesk,
    incidents: () => loadIncidents(arg), connectors: () => loadConnectors(arg), audit: loadAudit,
  };
  await withBusy(null, loaders[current.id]);
}

// ---------- agent view: triage ----------

async function loadTriage(id) {
  $('triage-form').hidden = !can('triage');
  $('open-form').hidden = !can('feedback'); // reading a stored triage is for agents and admins
  if (!id && !$('triage-result').querySelector('#suggestions')) {
    clear($('triage-result')).append(h('p', { class: 'muted' }, 'Type or paste a ticket and press Triage; the predicted labels and the fixes most likely to work appear here.'));
  }
  if (id) {
    $('open-id').value = id;
    const detail = await api('GET', `/v1/triage/${encodeURIComponent(id)}${tenantQuery()}`);
    await renderStoredTriage(detail);
  }
}

async function submitTriage(event) {
  event.preventDefault();
  const button = $('triage-submit');
  const title = $('t-title').value.trim();
  const description = $('t-description').value.trim();
  if (!title && !description) {
    showError(new ApiError('type a title or a description first', 'empty_ticket', 422, 'Nothing to triage'));
    $('t-title').focus();
    return;
  }
  await withBusy(button, async () => {
    const body = { title: title || null, description: description || null, channel: $('t-channel').value };
    const external = $('t-external').value.trim();
    if (external) body.external_id = external;
    if (tenant()) body.tenant = tenant();
    const started = performance.now();
    const answer = await api('POST', '/v1/triage', body);
    renderTriage(answer, performance.now() - started);
    history.replaceState(null, '', `#/triage/${answer.triage_id}`);
  });
}

function labelCard(head, p, feedbackAllowed) {
  const card = h('div', { class: 'card label-card', dataset: { head } },
    h('h3', null, headName(head)),
    h('div', { class: 'value' }, p.label ?? '—'),
    p.probability !== undefined ? [meter(p.probability, `${headName(head)} confidence`), h('span', null, `${pct(p.probability)} confident `)] : null,
    h('span', { class: `badge ${p.decision}`, title: DECISION_TEXT[p.decision] || '' }, p.decision),
    h('p', { class: 'help' }, DECISION_TEXT[p.decision] || ''));
  if (p.alternatives && p.alternatives.length > 1) {
    card.append(h('div', { class: 'muted' }, 'Alternatives'),
      h('ol', { class: 'alts' }, p.alternatives.map((a) => h('li', null, `${a.label} (${pct(a.probability)})`))));
  }
  if (p.explanation && p.explanation.length) {
    card.append(h('div', { class: 'muted' }, 'Why: words that weighed most'),
      h('ul', { class: 'terms' }, p.explanation.map((t) => h('li', null, t.term))));
  }
  if (feedbackAllowed) {
    const listId = `alts-${head}`;
    card.append(
      h('label', { for: `correct-${head}` }, `Correct ${headName(head)}`),
      h('input', { id: `correct-${head}`, list: listId, value: p.label ?? '', dataset: { original: p.label ?? '' }, class: 'correction' }),
      h('datalist', { id: listId }, (p.alternatives || []).map((a) => h('option', { value: a.label }))));
  }
  return card;
}

function renderLabels(container, labels, triageId, feedbackAllowed) {
  const rank = (head) => (HEADS_ORDER.includes(head) ? HEADS_ORDER.indexOf(head) : HEADS_ORDER.length);
  const heads = Object.keys(labels).sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  container.append(h('h2', null, 'Where it belongs'), h('div', { class: 'labels' }, heads.map((head) => labelCard(head, labels[head], feedbackAllowed))));
  if (feedbackAllowed && heads.length) {
    const button = h('button', { type: 'button', class: 'secondary', id: 'send-correction' }, 'Send label correction');
    button.addEventListener('click', () => sendCorrection(button, triageId));
    container.append(button);
  }
}

async function sendCorrection(button, triageId) {
  const corrected = {};
  for (const input of document.querySelectorAll('input.correction')) {
    const value = input.value.trim();
    if (value && value !== input.dataset.original) corrected[input.closest('[data-head]').dataset.head] = value;
  }
  if (!Object.keys(corrected).length) {
    showError(new ApiError('change at least one label above, then send', 'invalid_request', 422, 'Nothing corrected'));
    return;
  }
  await withBusy(button, async () => {
    await api('POST', `/v1/triage/${encodeURIComponent(triageId)}/feedback`, { tenant: tenant(), outcome: 'corrected', corrected_labels: corrected });
    for (const input of document.querySelectorAll('input.correction')) input.dataset.original = input.value.trim();
    say(`Correction sent: ${Object.entries(corrected).map(([k, v]) => `${headName(k)} → ${v}`).join(', ')}. It trains the next model.`);
  });
}

function feedbackButtons(triageId, suggestion) {
  const box = h('div', { class: 'actions', role: 'group', 'aria-label': `Feedback on ${suggestion.title || suggestion.id}` });
  const send = async (outcome, button) => {
    await withBusy(button, async () => {
      await api('POST', `/v1/triage/${encodeURIComponent(triageId)}/feedback`, { tenant: tenant(), suggestion: { kind: suggestion.kind, id: suggestion.id }, outcome });
      clear(box).append(h('span', { class: 'sent' }, `Sent: ${OUTCOME_TEXT[outcome]}. Thank you.`));
      say(`Feedback sent on “${suggestion.title || suggestion.id}”: ${OUTCOME_TEXT[outcome]}.`);
    });
  };
  for (const [outcome, label, cls] of [['resolved', 'This fixed it', ''], ['helpful', 'Helpful', 'secondary'], ['not_helpful', 'Not helpful', 'secondary']]) {
    const b = h('button', { type: 'button', class: `small ${cls}`, dataset: { outcome } }, label);
    b.addEventListener('click', () => send(outcome, b));
    box.append(b);
  }
  return box;
}

function suggestionItem(sg, index, triageId) {
  if (sg.kind === 'incident') return incidentSuggestionItem(sg, index);
  const kindLabel = sg.kind === 'ticket' ? 'Similar resolved ticket' : 'Article';
  const item = h('li', { class: `suggestion kind-${sg.kind}`, dataset: { id: sg.id, kind: sg.kind } },
    h('h3', null, `${index + 1}. `, sg.title || sg.id),
    h('div', { class: 'muted' }, h('span', { class: 'badge' }, kindLabel), ' ',
      typeof sg.fix_probability === 'number' ? [h('span', { class: 'fix-probability', title: 'How likely this is to fix the ticket (calibrated)' }, `${pct(sg.fix_probability)} likely to fix`), ' · '] : '',
      sg.category ? `${sg.category}` : '', sg.escalation_group ? ` · escalate to ${sg.escalation_group}` : '',
      sg.kind === 'article' ? [' · ', h('code', null, sg.id)] : ''),
    sg.snippet ? h('p', { class: 'snippet' }, snippetNodes(sg.snippet)) : null);
  if (sg.steps && sg.steps.length) {
    const details = h('details', index === 0 ? { open: true } : null, h('summary', null, `Steps (${sg.steps.length})`),
      h('ol', null, sg.steps.map((step) => h('li', null, step))));
    item.append(details);
  }
  if (triageId && can('feedback')) item.append(feedbackButtons(triageId, sg));
  return item;
}

/** The agent message of an incident suggestion (its steps), or what the service says instead. */
function tellCallers(sg) {
  const steps = sg.steps || [];
  if (steps.length) return h('div', { class: 'tell' }, h('strong', null, 'Tell callers: '), steps.length === 1 ? steps[0] : h('ol', null, steps.map((step) => h('li', null, step))));
  return h('p', { class: 'muted' }, sg.snippet ? snippetNodes(sg.snippet) : 'No message for agents yet.');
}

/** The major incident a ticket belongs to, as a suggestion: not a fix to rate, so no feedback. */
function incidentSuggestionItem(sg, index) {
  return h('li', { class: 'suggestion kind-incident', dataset: { id: sg.id, kind: sg.kind } },
    h('h3', null, `${index + 1}. `, sg.title || sg.id),
    h('div', { class: 'muted' }, h('span', { class: 'badge incident-confirmed' }, 'Major incident'), ' ',
      can('read_incidents') ? incidentLink({ id: sg.id }, `Open incident ${sg.id}`) : h('code', null, sg.id)),
    tellCallers(sg));
}

const NOTICE_HEADING = { suspected: 'Part of a suspected major incident', confirmed: 'Part of a known major incident', resolved: 'Part of a major incident resolved minutes ago' };

/** Shown first, above the labels and suggestions, when the ticket belongs to an incident. */
function incidentNotice(answer) {
  const inc = answer.incident;
  const sg = (answer.suggestions || []).find((x) => x.kind === 'incident' && x.id === inc.id) || { id: inc.id };
  const heading = NOTICE_HEADING[inc.status] || 'Part of a major incident';
  return h('section', { class: 'incident-notice', id: 'triage-incident', 'aria-label': heading, dataset: { id: inc.id, status: inc.status } },
    h('h2', null, heading),
    tellCallers(sg),
    h('p', { class: 'muted' }, statusBadge(inc.status), ` · ${pct(inc.similarity)} similar · `,
      can('read_incidents') ? incidentLink(inc, `Open incident ${inc.id}`) : h('code', null, inc.id)));
}

function renderTriage(answer, millis) {
  const out = clear($('triage-result'));
  out.append(h('p', { class: 'muted' }, 'Triage ', h('code', { id: 'triage-id' }, answer.triage_id),
    answer.model_version ? ` · model ${answer.model_version}` : ' · no model loaded',
    millis !== undefined ? ` · answered in ${millis.toFixed(0)} ms` : ''));
  if (answer.incident) out.append(incidentNotice(answer));
  renderLabels(out, answer.labels || {}, answer.triage_id, can('feedback'));
  if (answer.first_contact) {
    const fc = answer.first_contact;
    out.append(h('p', { id: 'first-contact' }, h('strong', null, 'Resolvable at first contact: '), `${pct(fc.probability)} `,
      h('span', { class: `badge ${fc.decision}` }, fc.decision), h('span', { class: 'muted' }, ` (${fc.source})`)));
  }
  if (answer.cleaning && answer.cleaning.removed.length) out.append(cleaningNote(answer));
  out.append(h('h2', null, 'Suggested fixes'));
  if (answer.no_good_fix && answer.suggestions.length) {
    out.append(h('p', { id: 'no-good-fix', class: 'notice' }, 'No suggestion is likely to fix this ticket: the knowledge base may have no answer for it. Route it on the labels above.'));
  }
  if (!answer.suggestions.length) out.append(h('p', { class: 'muted' }, 'No article or resolved ticket matched. Try more detail, or search the knowledge base.'));
  out.append(h('ol', { class: 'suggestions', id: 'suggestions' }, answer.suggestions.map((sg, i) => suggestionItem(sg, i, answer.triage_id))));
  out.querySelector('h2').focus?.();
}

const CLEANING_TEXT = { quote: 'quoted thread', signature: 'signature', disclaimer: 'disclaimer', auto_reply: 'auto-reply', boilerplate: 'boilerplate' };

// What cleaning took off an e-mail-born ticket, and (folded) the text the engine analysed: the
// stored, cleaned and redacted text, for keys that may read stored triages.
function cleaningNote(answer) {
  const c = answer.cleaning;
  const what = c.removed.map((k) => CLEANING_TEXT[k] || k).join(', ');
  const details = h('details', { id: 'cleaning' }, h('summary', null,
    `Read without the e-mail's ${what} (${c.removed_chars.toLocaleString()} of ${(c.kept_chars + c.removed_chars).toLocaleString()} characters folded away)`));
  if (can('feedback')) {
    details.addEventListener('toggle', async () => {
      if (!details.open || details.dataset.loaded) return;
      details.dataset.loaded = '1';
      try {
        const detail = await api('GET', `/v1/triage/${encodeURIComponent(answer.triage_id)}${tenantQuery()}`);
        details.append(h('div', { class: 'muted' }, 'Text as analysed (personal data redacted)'), h('p', { class: 'analysed-text' }, detail.text || ''));
      } catch (e) {
        details.append(h('p', { class: 'muted' }, `The analysed text could not be loaded: ${e.message}`));
      }
    });
  }
  return details;
}

async function renderStoredTriage(detail) {
  const out = clear($('triage-result'));
  out.append(h('p', { class: 'muted' }, 'Triage ', h('code', { id: 'triage-id' }, detail.triage_id), ` · ${detail.created_at}`,
    detail.model_version ? ` · model ${detail.model_version}` : '', detail.external_id ? ` · ticket ${detail.external_id}` : ''));
  if (detail.text) out.append(h('div', { class: 'card' }, h('div', { class: 'muted' }, 'Ticket text (personal data redacted)'), h('p', null, detail.text)));
  renderLabels(out, detail.labels || {}, detail.triage_id, can('feedback'));
  if (detail.feedback.length) {
    out.append(h('h2', null, 'Feedback so far'), h('ul', null, detail.feedback.map((f) =>
      h('li', null, `${f.created_at}: ${OUTCOME_TEXT[f.outcome] || f.outcome}`, f.suggestion ? ` (${f.suggestion})` : '',
        Object.keys(f.corrected_labels || {}).length ? ` · ${Object.entries(f.corrected_labels).map(([k, v]) => `${headName(k)} → ${v}`).join(', ')}` : ''))));
  }
  out.append(h('h2', null, 'Suggested fixes (as offered)'));
  const items = await Promise.all(detail.suggestions.map(async (ref) => {
    const [kind, ...rest] = ref.split(':');
    const id = rest.join(':');
    if (kind === 'article' && can('search_kb')) {
      try {
        const a = await api('GET', `/v1/kb/articles/${encodeURIComponent(id)}${tenantQuery()}`);
        return { kind, id, title: a.title, category: a.category, escalation_group: a.escalation_group, steps: a.steps, snippet: a.summary };
      } catch (e) {
        return { kind, id, title: `${id} (no longer in the knowledge base)` };
      }
    }
    if (kind === 'incident' && can('read_incidents')) {
      try {
        const inc = await api('GET', `/v1/incidents/${encodeURIComponent(id)}`);
        return { kind, id, title: inc.title, steps: inc.message ? [inc.message] : [] };
      } catch (e) {
        return { kind, id, title: `Major incident ${id}` };
      }
    }
    return { kind, id, title: kind === 'ticket' ? `Resolved ticket ${id}` : kind === 'incident' ? `Major incident ${id}` : id };
  }));
  out.append(h('ol', { class: 'suggestions', id: 'suggestions' }, items.map((sg, i) => suggestionItem(sg, i, detail.triage_id))));
}

// ---------- knowledge base ----------

async function loadKb() {
  $('kb-search-form').hidden = !can('search_kb');
  const usage = clear($('kb-usage'));
  if (!can('read_stats')) return;
  const data = await api('GET', `/v1/kb/articles${tenantQuery()}`);
  state.kbRows = data.articles;
  usage.append(h('h2', null, 'Articles: use and helpfulness'),
    h('p', { class: 'help' }, 'Offered: triages that suggested the article; first: as the top suggestion. Helpful rate: (fixed + helpful) / all feedback.'),
    h('label', { for: 'kb-filter' }, 'Filter'), h('input', { id: 'kb-filter', placeholder: 'title, id or category', oninput: renderKbTable }),
    h('div', { class: 'table-wrap', id: 'kb-table' }));
  renderKbTable();
}

function renderKbTable() {
  const filter = ($('kb-filter')?.value || '').toLowerCase();
  const { column, descending } = state.kbSort;
  const rows = state.kbRows
    .filter((a) => !filter || `${a.title} ${a.id} ${a.category}`.toLowerCase().includes(filter))
    .sort((a, b) => {
      const x = a[column] ?? -1;
      const y = b[column] ?? -1;
      const c = typeof x === 'string' ? x.localeCompare(y) : x - y;
      return descending ? -c : c;
    });
  const columns = [['title', 'Article'], ['category', 'Category'], ['offered', 'Offered', 'num'], ['offered_first', 'First', 'num'],
    ['resolved', 'Fixed it', 'num'], ['helpful', 'Helpful', 'num'], ['not_helpful', 'Not helpful', 'num'], ['helpful_rate', 'Helpful rate']];
  const head = h('tr', null, columns.map(([key, label, cls]) => {
    const sorted = column === key;
    const b = h('button', { type: 'button' }, label, sorted ? (descending ? ' ▼' : ' ▲') : '');
    b.addEventListener('click', () => {
      state.kbSort = { column: key, descending: sorted ? !descending : key !== 'title' && key !== 'category' };
      renderKbTable();
    });
    return h('th', { class: cls, 'aria-sort': sorted ? (descending ? 'descending' : 'ascending') : null, scope: 'col' }, b);
  }));
  const body = rows.map((a) => h('tr', { dataset: { id: a.id } },
    h('td', null, a.title, h('div', { class: 'muted' }, h('code', null, a.id), a.tenants.length ? ` · only ${a.tenants.join(', ')}` : '')),
    h('td', null, a.category),
    h('td', { class: 'num' }, a.offered), h('td', { class: 'num' }, a.offered_first),
    h('td', { class: 'num' }, a.resolved), h('td', { class: 'num' }, a.helpful), h('td', { class: 'num' }, a.not_helpful),
    h('td', null, a.helpful_rate === null ? h('span', { class: 'muted' }, 'no feedback') : [pct(a.helpful_rate), meter(a.helpful_rate, `${a.title} helpful rate`)])));
  clear($('kb-table')).append(h('table', { id: 'kb-usage-table' }, h('caption', { class: 'muted' }, `${rows.length} of ${state.kbRows.length} articles`), h('thead', null, head), h('tbody', null, body)));
}

async function searchKb(event) {
  event.preventDefault();
  const q = $('kb-q').value.trim();
  const out = clear($('kb-search-results'));
  if (!q) return;
  await withBusy(event.submitter, async () => {
    const data = await api('GET', `/v1/kb/search?q=${encodeURIComponent(q)}${tenantQuery('&')}`);
    out.append(h('h2', null, `Results for “${q}”`));
    if (!data.results.length) out.append(h('p', { class: 'muted' }, 'No article matched.'));
    out.append(h('ol', { class: 'suggestions' }, data.results.map((sg, i) => suggestionItem(sg, i, null))));
  });
}

// ---------- knowledge-base gaps ----------

async function loadGaps() {
  const out = clear($('gaps-body'));
  if (!tenant()) {
    out.append(h('p', { class: 'muted' }, 'Gaps are per tenant: pick a tenant above.'));
    return;
  }
  const params = [tenantQuery('')];
  if ($('gaps-from').value) params.push(`from=${encodeURIComponent($('gaps-from').value)}`);
  if ($('gaps-to').value) params.push(`to=${encodeURIComponent($('gaps-to').value)}`);
  const data = await api('GET', `/v1/kb/gaps?${params.join('&')}`);
  out.append(h('p', { class: 'muted', id: 'gaps-summary' }, `${data.gaps.length} gaps from ${data.candidates} tickets with no good fix or marked not helpful`));
  if (!data.gaps.length) out.append(h('p', { class: 'muted' }, 'No gaps in this window: the knowledge base had a good fix for every ticket.'));
  out.append(h('ol', { class: 'gaps', id: 'gaps-list' }, data.gaps.map(gapItem)));
}

function gapItem(gap) {
  const draft = h('pre', { class: 'draft', id: `draft-${gap.id}`, tabindex: 0, 'aria-label': `Draft article for ${gap.id}` }, gap.draft);
  const copy = h('button', { type: 'button', class: 'small secondary', dataset: { action: 'copy-draft' } }, 'Copy draft');
  copy.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(gap.draft);
      say(`Draft ${gap.draft_id} copied`);
    } catch (e) {
      window.getSelection().selectAllChildren(draft);
      say('Copying is not allowed here: the draft is selected, press Ctrl+C');
    }
  });
  return h('li', { class: 'card', dataset: { id: gap.id } },
    h('h2', null, `${gap.size} ticket${gap.size === 1 ? '' : 's'}: ${gap.top_terms.join(', ')}`),
    h('p', { class: 'muted' }, h('code', null, gap.id), ` · ${gap.no_good_fix} no good fix, ${gap.not_helpful} not helpful`,
      gap.category ? ` · ${gap.category}` : '', ` · ${gap.first_seen} – ${gap.last_seen}`),
    h('ul', null, gap.representatives.map((r) => h('li', null, r.external_id ? h('strong', null, `${r.external_id}: `) : '', r.snippet))),
    gap.resolution_notes.length ? [h('h3', null, 'How they were resolved'), h('ul', null, gap.resolution_notes.map((n) => h('li', null, n)))] : '',
    h('details', null, h('summary', null, `Draft article ${gap.draft_id}`), copy, draft));
}

async function showGaps(event) {
  event.preventDefault();
  await withBusy(event.submitter, loadGaps);
}

// ---------- models ----------

async function loadModels() {
  const data = await api('GET', '/v1/admin/models');
  const actions = clear($('models-actions'));
  actions.append(h('span', null, 'Live model: ', h('strong', { id: 'live-version' }, data.live || 'none')));
  if (can('manage_models')) {
    const train = h('button', { type: 'button', id: 'start-retrain' }, 'Start retrain');
    train.addEventListener('click', () => startRetrain(train));
    const rollback = h('button', { type: 'button', class: 'secondary', id: 'rollback' }, 'Roll back');
    rollback.addEventListener('click', () => rollbackModel(rollback));
    actions.append(train, rollback);
  } else {
    actions.append(h('span', { class: 'muted' }, 'Retraining, promotion and rollback are for operator keys (the model is shared by every tenant).'));
  }
  renderModelList(data);
}

function headSummary(report) {
  return Object.entries(report.heads || {}).map(([head, r]) => {
    const c = r.candidate || {};
    const l = r.live;
    return h('div', null, `${headName(head)}: ${num(c.macro_f1)}`, l ? h('span', { class: 'muted' }, ` (live ${num(l.macro_f1)})`) : '');
  });
}

function renderModelList(data) {
  const wrap = clear($('models-list'));
  const rows = data.models.map((m) => {
    const r = m.report || {};
    const details = h('button', { type: 'button', class: 'small secondary', dataset: { action: 'details' } }, 'Details');
    details.addEventListener('click', () => { state.selectedModel = m.version; renderModelList(data); });
    const cells = [
      h('td', null, h('strong', null, m.version)),
      h('td', null, h('span', { class: `badge ${m.status}` }, m.status)),
      h('td', null, m.created_at),
      h('td', { class: 'num' }, r.train_rows ?? '–'),
      h('td', { class: 'num' }, r.holdout_rows ?? '–'),
      h('td', null, headSummary(r)),
    ];
    const actions = h('div', { class: 'actions' }, details);
    if (can('manage_models') && m.version !== data.live) {
      const promote = h('button', { type: 'button', class: 'small', dataset: { action: 'promote' } }, 'Promote');
      promote.addEventListener('click', () => promoteModel(promote, m.version));
      actions.append(promote);
      if (!data.shadow || data.shadow.version !== m.version) {
        const shadow = h('button', { type: 'button', class: 'small secondary', dataset: { action: 'shadow' } }, 'Shadow');
        shadow.addEventListener('click', () => withBusy(shadow, async () => {
          await api('POST', `/v1/admin/models/${encodeURIComponent(m.version)}/shadow`);
          say(`${m.version} now answers beside the live model, off the request path.`);
          await loadModels();
        }));
        actions.append(shadow);
      }
    }
    return h('tr', { dataset: { version: m.version }, class: state.selectedModel === m.version ? 'selected' : null }, cells, h('td', null, actions));
  });
  wrap.append(h('div', { class: 'table-wrap' }, h('table', { id: 'models-table' },
    h('thead', null, h('tr', null, ['Version', 'Status', 'Created', 'Trained on', 'Held out', 'Macro-F1 per head (held-out; live model on the same slice)', ''].map((t, i) => h('th', { scope: 'col', class: i === 3 || i === 4 ? 'num' : null }, t)))),
    h('tbody', null, rows))));
  renderShadow(wrap, data);
  const selected = data.models.find((m) => m.version === state.selectedModel) || data.models.find((m) => m.version === data.live) || data.models[0];
  renderModelDetail(selected);
}

/** The candidate in shadow mode: agreement with the live model, and both models' accuracy on
 * the shadowed tickets whose labels arrived. */
function renderShadow(wrap, data) {
  const sh = data.shadow;
  const section = h('section', { class: 'card', id: 'shadow', 'aria-label': 'Shadow model' });
  if (!sh) {
    section.append(h('h2', null, 'Shadow model'), h('p', { class: 'muted' }, 'No candidate runs in shadow mode. “Shadow” on a candidate runs it beside the live model on live traffic, without changing any answer.'));
    wrap.append(section);
    return;
  }
  section.append(h('h2', null, `Shadow model: ${sh.version}`),
    h('p', { class: 'help' }, `Since ${sh.started_at}: ${sh.triages} tickets answered by both models${sh.dropped ? `, ${sh.dropped} skipped (queue full)` : ''}. Projected first contact: live ${pct(sh.live_first_contact)}, candidate ${pct(sh.candidate_first_contact)}.`));
  section.append(h('div', { class: 'table-wrap' }, h('table', { id: 'shadow-table' },
    h('thead', null, h('tr', null, ['Head', 'Compared', 'Agreement', 'Labelled', 'Live accuracy', 'Candidate accuracy'].map((t, i) => h('th', { scope: 'col', class: i ? 'num' : null }, t)))),
    h('tbody', null, Object.entries(sh.heads).map(([head, x]) => h('tr', null, h('td', null, headName(head)), h('td', { class: 'num' }, x.compared),
      h('td', { class: 'num' }, pct(x.agreement, 1)), h('td', { class: 'num' }, x.labelled), h('td', { class: 'num' }, pct(x.live_accuracy, 1)),
      h('td', { class: 'num' }, pct(x.candidate_accuracy, 1))))))));
  if (can('manage_models')) {
    const stop = h('button', { type: 'button', class: 'secondary', id: 'stop-shadow' }, 'Stop shadowing');
    stop.addEventListener('click', () => withBusy(stop, async () => {
      await api('DELETE', '/v1/admin/models/shadow');
      say('Shadow model stopped.');
      await loadModels();
    }));
    section.append(stop);
  }
  wrap.append(section);
}

function renderModelDetail(model) {
  const out = clear($('model-detail'));
  if (!model) return;
  const r = model.report || {};
  out.append(h('h2', { id: 'model-detail-title' }, `Evaluation of ${model.version}`));
  if (r.note) out.append(h('p', { class: 'help' }, r.note));
  if (r.skipped_heads && r.skipped_heads.length) out.append(h('p', { class: 'help' }, `Not trained: ${r.skipped_heads.join('; ')}`));
  for (const [head, hr] of Object.entries(r.heads || {})) {
    const c = hr.candidate;
    if (!c) continue;
    const section = h('section', { class: 'card', 'aria-label': `${headName(head)} evaluation` }, h('h3', null, headName(head)));
    section.append(h('div', { class: 'kpis' }, [
      ['Accuracy', pct(c.accuracy, 1)], ['Macro-F1', num(c.macro_f1)], ['Calibration error (ECE)', num(c.ece)],
      ['Auto coverage', pct(c.auto_coverage, 1)], ['Auto precision', pct(c.auto_precision, 1)], ['Top-3 accuracy', pct(c.top3_accuracy, 1)],
      ['Rows', c.rows ?? '–'], ['Live model macro-F1', hr.live ? num(hr.live.macro_f1) : '–'],
    ].map(([k, v]) => h('div', { class: 'kpi' }, h('div', { class: 'k' }, k), h('div', { class: 'v' }, v)))));
    if (c.per_class && c.per_class.length) {
      section.append(h('details', null, h('summary', null, `Per class (${c.per_class.length})`), h('div', { class: 'table-wrap' }, h('table', null,
        h('thead', null, h('tr', null, ['Class', 'Precision', 'Recall', 'F1', 'Support'].map((t, i) => h('th', { scope: 'col', class: i ? 'num' : null }, t)))),
        h('tbody', null, c.per_class.map((pc) => h('tr', null, h('td', null, pc.label), h('td', { class: 'num' }, num(pc.precision)),
          h('td', { class: 'num' }, num(pc.recall)), h('td', { class: 'num' }, num(pc.f1)), h('td', { class: 'num' }, pc.support))))))));
    }
    const charts = h('div', { class: 'charts' });
    if (c.confusion && c.confusion.length) charts.append(h('figure', null, h('figcaption', null, 'Confusion matrix (rows: true class, columns: predicted; shade: share of the row)'), h('div', { class: 'heat-wrap' }, heatMap(c.per_class.map((x) => x.label), c.confusion, head))));
    if (c.reliability && c.reliability.length) charts.append(h('figure', null, h('figcaption', null, 'Calibration: accuracy against stated confidence'), reliabilityChart(c.reliability, head)));
    section.append(charts);
    out.append(section);
  }
}

function heatMap(labels, matrix, head) {
  const n = labels.length;
  const cell = n > 30 ? 12 : n > 15 ? 18 : 26;
  const left = 150;
  const top = 110;
  const width = left + n * cell + 10;
  const height = top + n * cell + 10;
  const svg = s('svg', { viewBox: `0 0 ${width} ${height}`, width, height, role: 'img', class: 'heatmap', 'aria-label': `Confusion matrix of ${headName(head)} over ${n} classes`, dataset: { head } });
  const short = (t) => (t.length > 22 ? `${t.slice(0, 21)}…` : t);
  labels.forEach((label, i) => {
    svg.append(s('text', { x: left - 4, y: top + i * cell + cell * 0.7, 'text-anchor': 'end' }, short(label)));
    svg.append(s('text', { transform: `translate(${left + i * cell + cell * 0.7},${top - 4}) rotate(-60)` }, short(label)));
  });
  matrix.forEach((row, i) => {
    const total = row.reduce((a, b) => a + b, 0) || 1;
    row.forEach((v, j) => {
      const share = v / total;
      const fill = v === 0 ? '#f3f4f7' : i === j ? `rgba(21,128,61,${0.15 + 0.85 * share})` : `rgba(179,38,30,${0.15 + 0.85 * share})`;
      const rect = s('rect', { x: left + j * cell, y: top + i * cell, width: cell - 1, height: cell - 1, fill },
        s('title', null, `true ${labels[i]} → predicted ${labels[j]}: ${v} (${pct(share)} of the row)`));
      svg.append(rect);
      if (cell >= 18 && v > 0) svg.append(s('text', { x: left + j * cell + cell / 2, y: top + i * cell + cell * 0.68, 'text-anchor': 'middle', fill: share > 0.5 ? '#fff' : '#1d2430' }, v));
    });
  });
  return svg;
}

function reliabilityChart(bins, head) {
  const w = 320;
  const ht = 240;
  const m = { l: 40, r: 10, t: 10, b: 36 };
  const x = (p) => m.l + p * (w - m.l - m.r);
  const y = (p) => ht - m.b - p * (ht - m.t - m.b);
  const svg = s('svg', { viewBox: `0 0 ${w} ${ht}`, width: w, height: ht, role: 'img', 'aria-label': `Reliability diagram of ${headName(head)}` });
  svg.append(s('line', { x1: x(0), y1: y(0), x2: x(1), y2: y(1), stroke: '#9aa3b2', 'stroke-dasharray': '4 3' }));
  for (const t of [0, 0.5, 1]) {
    svg.append(s('text', { x: x(t), y: ht - m.b + 14, 'text-anchor': 'middle' }, t.toFixed(1)));
    svg.append(s('text', { x: m.l - 6, y: y(t) + 4, 'text-anchor': 'end' }, t.toFixed(1)));
  }
  svg.append(s('text', { x: x(0.5), y: ht - 4, 'text-anchor': 'middle' }, 'stated confidence'));
  svg.append(s('text', { transform: `translate(11,${y(0.5)}) rotate(-90)`, 'text-anchor': 'middle' }, 'accuracy'));
  svg.append(s('line', { x1: x(0), y1: y(0), x2: x(1), y2: y(0), stroke: '#5b6577' }));
  svg.append(s('line', { x1: x(0), y1: y(0), x2: x(0), y2: y(1), stroke: '#5b6577' }));
  for (const b of bins) {
    svg.append(s('rect', { x: x(b.lower) + 1, y: y(b.accuracy), width: x(b.upper) - x(b.lower) - 2, height: y(0) - y(b.accuracy), fill: 'rgba(31,95,191,0.75)' },
      s('title', null, `${b.lower.toFixed(1)}–${b.upper.toFixed(1)}: ${b.count} predictions, mean confidence ${pct(b.mean_probability)}, accuracy ${pct(b.accuracy)}`)));
    svg.append(s('circle', { cx: x(b.mean_probability), cy: y(b.mean_probability), r: 2.5, fill: '#c2410c' }));
  }
  return svg;
}

async function startRetrain(button) {
  await withBusy(button, async () => {
    const started = await api('POST', '/v1/admin/models/train', {});
    say('Retraining started; it runs in the background and the live model keeps serving.');
    watchJob(started.job_id);
  });
}

function watchJob(jobId) {
  if (state.jobTimer) clearInterval(state.jobTimer);
  const box = clear($('job'));
  const phase = h('div', { id: 'job-phase' }, 'starting…');
  const bar = h('progress', { id: 'job-progress', max: 1, 'aria-label': 'Training progress' });
  box.append(h('div', { class: 'card' }, h('strong', null, `Training job ${jobId}`), phase, bar));
  const tick = async () => {
    let job;
    try {
      job = await api('GET', `/v1/admin/jobs/${encodeURIComponent(jobId)}`);
    } catch (e) {
      clearInterval(state.jobTimer);
      showError(e);
      return;
    }
    phase.textContent = job.state === 'running' ? `${job.phase}${job.total ? ` (${job.done} of ${job.total})` : ''}` : job.state === 'succeeded'
      ? `Finished: version ${job.version} is registered as a candidate. Compare it below, then promote it.` : `Failed: ${job.error}`;
    phase.dataset.state = job.state;
    if (job.total) { bar.max = job.total; bar.value = job.done; } else if (job.state !== 'running') { bar.max = 1; bar.value = 1; } else { bar.removeAttribute('value'); }
    if (job.state !== 'running') {
      clearInterval(state.jobTimer);
      state.jobTimer = null;
      if (job.state === 'succeeded') {
        state.selectedModel = job.version;
        say(`Training finished: ${job.version} is a candidate.`);
      } else {
        showError(new ApiError(job.error || 'the job failed', 'job_failed', 0, 'Training failed'));
      }
      if (route().view === 'models') await withBusy(null, loadModels);
    }
  };
  state.jobTimer = setInterval(tick, 700);
  tick();
}

async function promoteModel(button, version) {
  const ok = await confirmDialog(`Promote ${version}?`, `${version} becomes the live model for every tenant at once; requests in flight finish on the current one. You can roll back afterwards.`, 'Promote');
  if (!ok) return;
  await withBusy(button, async () => {
    try {
      await api('POST', `/v1/admin/models/${encodeURIComponent(version)}/promote`);
    } catch (e) {
      if (e.status !== 409) throw e;
      const force = await confirmDialog('Promotion refused', `${e.message}`, 'Promote anyway');
      if (!force) throw e;
      await api('POST', `/v1/admin/models/${encodeURIComponent(version)}/promote?force=true`);
    }
    say(`${version} is live.`);
    state.selectedModel = version;
    await loadModels();
  });
}

async function rollbackModel(button) {
  const ok = await confirmDialog('Roll back the live model?', 'The model that was live before the current one goes back live, for every tenant at once.', 'Roll back');
  if (!ok) return;
  await withBusy(button, async () => {
    const data = await api('POST', '/v1/admin/models/rollback');
    say(`Rolled back: ${data.live} is live.`);
    await loadModels();
  });
}

// ---------- desk statistics ----------

function isoDay(d) {
  return d.toISOString().slice(0, 10);
}

async function loadDesk() {
  if (!$('desk-from').value) {
    const now = new Date();
    $('desk-from').value = isoDay(new Date(now.getTime() - 29 * 86400000));
    $('desk-to').value = isoDay(new Date(now.getTime() + 86400000));
  }
  const range = `from=${$('desk-from').value}&to=${$('desk-to').value}`;
  const t = tenant();
  const stats = await api('GET', `/v1/stats?${range}${t ? `&tenant=${encodeURIComponent(t)}` : ''}`);
  const out = clear($('desk-body'));
  out.append(h('div', { class: 'kpis', id: 'desk-kpis' }, [
    ['triages', 'Triages', stats.triages], ['resolved', 'Resolved tickets', stats.resolved],
    ['first_contact_rate', 'First-contact resolution', pct(stats.first_contact_rate, 1)],
    ['feedback_rate', 'Triages with feedback', pct(stats.feedback_rate, 1)], ['acceptance_rate', 'Feedback that accepted a fix', pct(stats.acceptance_rate, 1)],
  ].map(([key, k, v]) => h('div', { class: 'kpi', dataset: { kpi: key } }, h('div', { class: 'k' }, k), h('div', { class: 'v' }, v)))));

  // One series per tenant when an operator looks at all tenants, else the one tenant.
  let series;
  if (!t && state.session.tenants.length > 1) {
    series = await Promise.all(state.session.tenants.map(async (tn, i) => ({
      name: tn.name, color: PALETTE[i % PALETTE.length],
      days: (await api('GET', `/v1/stats?${range}&tenant=${encodeURIComponent(tn.id)}`)).per_day,
    })));
  } else {
    series = [{ name: t ? (state.session.tenants.find((x) => x.id === t) || { name: t }).name : 'All tenants', color: PALETTE[0], days: stats.per_day }];
  }
  const days = dayRange($('desk-from').value, $('desk-to').value);
  out.append(h('div', { class: 'charts' },
    chartFigure('Triage volume per day', 'chart-volume', series, days, 'triages', (v) => String(v)),
    chartFigure('First-contact resolution rate per day (resolved tickets)', 'chart-fcr', series, days, 'first_contact_rate', (v) => pct(v))));

  const autoRows = Object.entries(stats.auto || {});
  out.append(h('h2', null, 'Automatic decisions'), h('div', { class: 'table-wrap' }, h('table', null,
    h('thead', null, h('tr', null, ['Head', 'Decisions', 'Auto share', 'Auto checked against final label', 'Auto accuracy'].map((x, i) => h('th', { scope: 'col', class: i ? 'num' : null }, x)))),
    h('tbody', null, autoRows.length ? autoRows.map(([head, a]) => h('tr', null, h('td', null, headName(head)), h('td', { class: 'num' }, a.decisions),
      h('td', { class: 'num' }, pct(a.auto_share, 1)), h('td', { class: 'num' }, a.auto_checked), h('td', { class: 'num' }, pct(a.auto_accuracy, 1))))
      : h('tr', null, h('td', { colspan: 5, class: 'muted' }, 'No triages in this window.'))))));
  out.append(h('h2', null, 'Resolved tickets per category'), h('div', { class: 'table-wrap' }, h('table', null,
    h('thead', null, h('tr', null, ['Category', 'Resolved', 'First-contact rate'].map((x, i) => h('th', { scope: 'col', class: i ? 'num' : null }, x)))),
    h('tbody', null, stats.per_category.length ? stats.per_category.map((c) => h('tr', null, h('td', null, c.category), h('td', { class: 'num' }, c.resolved), h('td', { class: 'num' }, pct(c.first_contact_rate, 1))))
      : h('tr', null, h('td', { colspan: 3, class: 'muted' }, 'No resolved tickets in this window.'))))));
}

function dayRange(from, to) {
  const days = [];
  for (let d = new Date(`${from}T00:00:00Z`); isoDay(d) < to && days.length < 400; d = new Date(d.getTime() + 86400000)) days.push(isoDay(d));
  return days;
}

function chartFigure(title, id, series, days, field, format) {
  const w = 560;
  const ht = 220;
  const m = { l: 44, r: 26, t: 10, b: 30 };
  const values = series.flatMap((sr) => sr.days.map((d) => d[field]).filter((v) => v !== null && v !== undefined));
  const isRate = field.endsWith('rate');
  const max = isRate ? 1 : Math.max(1, ...values);
  const x = (i) => m.l + (days.length <= 1 ? 0 : (i / (days.length - 1)) * (w - m.l - m.r));
  const y = (v) => ht - m.b - (v / max) * (ht - m.t - m.b);
  const svg = s('svg', { viewBox: `0 0 ${w} ${ht}`, width: w, height: ht, role: 'img', id, 'aria-label': `${title}, ${series.length} series over ${days.length} days` });
  for (const f of [0, 0.5, 1]) {
    svg.append(s('line', { x1: m.l, x2: w - m.r, y1: y(max * f), y2: y(max * f), stroke: '#e3e6ec' }));
    svg.append(s('text', { x: m.l - 6, y: y(max * f) + 4, 'text-anchor': 'end' }, format(isRate ? f : Math.round(max * f))));
  }
  const ticks = Math.min(6, days.length);
  for (let k = 0; k < ticks; k++) {
    const i = Math.round((k * (days.length - 1)) / Math.max(1, ticks - 1));
    svg.append(s('text', { x: x(i), y: ht - 10, 'text-anchor': 'middle' }, days[i].slice(5)));
  }
  series.forEach((sr) => {
    const byDay = new Map(sr.days.map((d) => [d.day, d[field]]));
    const points = days.map((d, i) => [i, byDay.get(d)]).filter(([, v]) => v !== null && v !== undefined && (isRate || true));
    const filled = isRate ? points : days.map((d, i) => [i, byDay.get(d) ?? 0]);
    if (filled.length) {
      svg.append(s('polyline', { points: filled.map(([i, v]) => `${x(i)},${y(v)}`).join(' '), fill: 'none', stroke: sr.color, 'stroke-width': 2 }));
    }
    for (const [i, v] of points) {
      svg.append(s('circle', { cx: x(i), cy: y(v), r: 3, fill: sr.color, dataset: { day: days[i], value: v } }, s('title', null, `${sr.name}, ${days[i]}: ${format(v)}`)));
    }
  });
  const table = h('details', null, h('summary', null, 'Data'), h('div', { class: 'table-wrap' }, h('table', null,
    h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Day'), series.map((sr) => h('th', { scope: 'col', class: 'num' }, sr.name)))),
    h('tbody', null, days.filter((d) => series.some((sr) => sr.days.some((x) => x.day === d))).map((d) => h('tr', null, h('td', null, d),
      series.map((sr) => { const v = (sr.days.find((x) => x.day === d) || {})[field]; return h('td', { class: 'num' }, v === null || v === undefined ? '–' : format(v)); })))))));
  const legend = h('div', { class: 'legend' }, series.map((sr) => { const i = h('i'); i.style.background = sr.color; return h('span', null, i, sr.name); }));
  return h('figure', null, h('figcaption', null, title), svg, legend, table);
}

// ---------- connectors ----------

/** Write-back lag above this many seconds is shown as "lagging". */
const LAG_LIMIT_SECONDS = 60;
const OUTBOX_FILTERS = [['all', 'All'], ['pending', 'Waiting'], ['dead', 'Dead letters'], ['delivered', 'Delivered']];
const OUTBOX_STATE_TEXT = { pending: 'waiting', sending: 'sending', delivered: 'delivered', dead: 'dead letter' };
const OUTBOX_LIMIT = 100;

function duration(seconds) {
  if (seconds === null || seconds === undefined) return '–';
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
  return `${Math.floor(seconds / 3600)} h ${Math.floor((seconds % 3600) / 60)} min`;
}

const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;

/** A connector's last error is "<RFC 3339 time> <message>"; it is kept after the connector recovers. */
function splitError(text) {
  const m = /^(\d{4}-\d\d-\d\dT\S+Z) (.*)$/s.exec(text || '');
  return m ? { at: m[1], message: m[2] } : { at: null, message: text || '' };
}

/** Whether the last error is newer than anything that has gone right since (a poll, an event, a delivery). */
function errorIsCurrent(c) {
  if (!c.last_error) return false;
  const { at } = splitError(c.last_error);
  if (!at) return true;
  const lastGood = [c.last_poll_at, c.last_event_at, c.last_delivered_at].filter(Boolean).map((t) => Date.parse(t));
  return !lastGood.length || Date.parse(at) >= Math.max(...lastGood);
}

/** The connector's health: "healthy", or each problem with its numbers, worst first. */
function connectorHealth(c) {
  const problems = [];
  if (c.outbox_dead > 0) problems.push({ state: 'dead-letters', text: `dead letters: ${c.outbox_dead}`, level: 'bad' });
  if (errorIsCurrent(c) || c.events_failed > 0) {
    problems.push({ state: 'errors', text: c.events_failed > 0 ? `errors: ${plural(c.events_failed, 'failed event', 'failed events')}` : 'errors', level: 'bad' });
  }
  if (c.lag_seconds !== null && c.lag_seconds !== undefined && c.lag_seconds > LAG_LIMIT_SECONDS) {
    problems.push({ state: 'lagging', text: `lagging: ${duration(c.lag_seconds)}`, level: 'warn' });
  }
  return problems.length ? problems : [{ state: 'healthy', text: 'healthy', level: 'ok' }];
}

async function loadConnectors(name) {
  const data = await api('GET', '/v1/admin/connectors');
  const out = clear($('connectors-body'));
  clear($('outbox-body'));
  if (!data.connectors.length) {
    out.append(h('div', { class: 'card', id: 'connectors-empty' },
      h('p', null, h('strong', null, 'No connectors configured: '), 'add ', h('code', null, '[[connectors]]'),
        ' to the configuration (a ticketing system, its base URL, credentials and tenant mapping) and restart the service.'),
      state.session.tenant ? h('p', { class: 'help' }, 'Connectors that serve more than your tenant are shown to operators only.') : null));
    return;
  }
  const selected = name ? data.connectors.find((c) => c.name === name) : data.connectors[0];
  out.append(h('div', { class: 'table-wrap' }, h('table', { id: 'connectors-table' },
    h('caption', { class: 'muted' }, `${plural(data.connectors.length, 'connector', 'connectors')}; lagging means the oldest waiting write-back has waited over ${LAG_LIMIT_SECONDS} s`),
    h('thead', null, h('tr', null, ['Connector', 'Health', 'Events in', 'Outbox', 'Lag', 'Last activity', 'Last error'].map((x) => h('th', { scope: 'col' }, x)))),
    h('tbody', null, data.connectors.map((c) => connectorRow(c, selected))))));
  if (!selected) {
    throw new ApiError(`no connector named \`${name}\` is configured; pick one from the list`, 'connector_not_found', 404, 'Not found');
  }
  await loadOutbox(selected);
}

function connectorRow(c, selected) {
  const health = connectorHealth(c);
  const { at, message } = splitError(c.last_error);
  const isSelected = selected && selected.name === c.name;
  const policies = Object.entries(c.write_back || {});
  return h('tr', { dataset: { name: c.name, health: health.map((p) => p.state).join(' ') }, class: isSelected ? 'selected' : null },
    h('td', null,
      h('a', { href: `#/connectors/${encodeURIComponent(c.name)}`, 'aria-current': isSelected ? 'true' : null, 'aria-label': `${c.name}: show its outbox` }, h('strong', null, c.name)),
      h('div', { class: 'muted' }, `${c.kind} · ${c.inbound === 'push' ? 'webhooks (push)' : 'polled (pull)'}`),
      h('div', { class: 'muted' }, h('code', null, c.base_url)),
      h('div', { class: 'muted' }, policies.length ? `write-back: ${policies.map(([head, p]) => `${headName(head)} ${p}`).join(', ')}` : 'write-back: notes only')),
    h('td', { class: 'health' }, health.map((p) => h('span', { class: `badge health-${p.level}`, dataset: { state: p.state } }, p.text))),
    h('td', null, h('dl', { class: 'counts' },
      h('dt', null, 'received'), h('dd', null, c.events_received), h('dt', null, 'waiting'), h('dd', null, c.events_pending),
      h('dt', null, 'ignored'), h('dd', null, c.events_ignored), h('dt', null, 'failed'), h('dd', null, c.events_failed))),
    h('td', null, h('dl', { class: 'counts' },
      h('dt', null, 'waiting'), h('dd', null, c.outbox_pending), h('dt', null, 'delivered'), h('dd', null, c.outbox_delivered),
      h('dt', null, 'dead'), h('dd', null, c.outbox_dead))),
    h('td', { class: 'num' }, duration(c.lag_seconds)),
    h('td', null, h('dl', { class: 'counts' },
      c.inbound === 'pull' ? [h('dt', null, 'polled'), h('dd', null, c.last_poll_at || 'not yet')] : null,
      h('dt', null, 'event'), h('dd', null, c.last_event_at || 'none yet'),
      h('dt', null, 'delivered'), h('dd', null, c.last_delivered_at || 'none yet'))),
    h('td', { class: 'last-error' }, c.last_error
      ? [h('div', null, message), at ? h('div', { class: 'muted' }, errorIsCurrent(c) ? at : `${at} (recovered since)`) : null]
      : h('span', { class: 'muted' }, 'none')));
}

async function fetchOutbox(name, filter) {
  const path = (s) => `/v1/admin/connectors/${encodeURIComponent(name)}/outbox?limit=${OUTBOX_LIMIT}${s ? `&state=${s}` : ''}`;
  if (filter === 'all') return (await api('GET', path(null))).actions;
  if (filter !== 'pending') return (await api('GET', path(filter))).actions;
  // "waiting" as the status counts it: pending, and claimed by the worker right now
  const [pending, sending] = await Promise.all([api('GET', path('pending')), api('GET', path('sending'))]);
  return [...sending.actions, ...pending.actions].sort((a, b) => b.id - a.id).slice(0, OUTBOX_LIMIT);
}

async function loadOutbox(connector) {
  const filter = state.outboxFilter || 'all';
  const actions = await fetchOutbox(connector.name, filter);
  const out = clear($('outbox-body'));
  const select = h('select', { id: 'outbox-state' }, OUTBOX_FILTERS.map(([value, label]) => h('option', { value, selected: value === filter }, label)));
  select.addEventListener('change', () => {
    state.outboxFilter = select.value;
    withBusy(null, () => loadOutbox(connector));
  });
  const refresh = h('button', { type: 'button', class: 'secondary', id: 'connectors-refresh' }, 'Refresh');
  refresh.addEventListener('click', () => withBusy(refresh, () => loadConnectors(connector.name)));
  append(out, [h('h2', { id: 'outbox-title', tabindex: -1 }, `Outbox of ${connector.name}`),
    h('div', { class: 'card inline' }, h('label', { for: 'outbox-state' }, 'Outbox state'), select, refresh),
    h('div', { class: 'table-wrap' }, h('table', { id: 'outbox-table', 'aria-labelledby': 'outbox-title' },
      h('thead', null, h('tr', null, ['Id', 'Ticket', 'Action', 'State', 'Tries', 'Last error', 'Times', 'What is sent', ''].map((x, i) => h('th', { scope: 'col', class: i === 0 || i === 4 ? 'num' : null }, x)))),
      h('tbody', null, actions.length ? actions.map((a) => outboxRow(connector, a))
        : h('tr', null, h('td', { colspan: 9, class: 'muted', id: 'outbox-empty' }, outboxEmptyText(filter)))))),
    actions.length === OUTBOX_LIMIT ? h('p', { class: 'help' }, `The newest ${OUTBOX_LIMIT} are shown.`) : null]);
}

function outboxEmptyText(filter) {
  return {
    all: 'Nothing in the outbox yet: a note is queued here for each ticket the connector triages.',
    pending: 'Nothing waiting to be written back.',
    dead: 'No dead letters: every write-back was delivered or is still being tried.',
    delivered: 'Nothing delivered yet.',
  }[filter];
}

const msTime = (ms) => (ms ? new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z') : '–');

function outboxRow(connector, a) {
  const times = h('dl', { class: 'counts' }, h('dt', null, 'queued'), h('dd', null, a.created_at),
    a.state === 'pending' ? [h('dt', null, 'next try'), h('dd', null, msTime(a.next_attempt_ms))] : null,
    a.delivered_at ? [h('dt', null, 'delivered'), h('dd', null, a.delivered_at)] : null);
  let retry = null;
  if (a.state === 'dead') {
    retry = h('button', { type: 'button', class: 'small', dataset: { action: 'retry' }, 'aria-label': `Retry action ${a.id} on ticket ${a.external_id}` }, 'Retry');
    retry.addEventListener('click', () => retryAction(retry, connector, a));
  }
  return h('tr', { dataset: { id: a.id, state: a.state } },
    h('td', { class: 'num' }, a.id),
    h('td', null, a.external_id),
    h('td', null, a.action),
    h('td', null, h('span', { class: `badge outbox-${a.state}` }, OUTBOX_STATE_TEXT[a.state] || a.state),
      a.in_doubt ? h('div', { class: 'muted', title: 'an earlier attempt may have arrived; the note is looked for on the ticket before it is posted again' }, 'in doubt') : null),
    h('td', { class: 'num' }, a.attempts),
    h('td', { class: 'last-error' }, a.last_error || h('span', { class: 'muted' }, 'none')),
    h('td', null, times),
    h('td', null, payloadDetails(a)),
    h('td', null, retry));
}

/** What an action sends, as text only: notes and field values come from tickets and the model. */
function payloadDetails(a) {
  const p = a.payload || {};
  let body;
  if (p.action === 'note' && typeof p.text === 'string') body = h('pre', { class: 'payload' }, p.text);
  else if (p.action === 'fields' && p.fields) body = h('ul', { class: 'payload' }, Object.entries(p.fields).map(([field, value]) => h('li', null, `${field} → ${value}`)));
  else body = h('pre', { class: 'payload' }, JSON.stringify(p, null, 2));
  return h('details', null, h('summary', null, a.action === 'note' ? 'Note' : 'Fields'), body);
}

async function retryAction(button, connector, a) {
  await withBusy(button, async () => {
    try {
      await api('POST', `/v1/admin/connectors/${encodeURIComponent(connector.name)}/outbox/${encodeURIComponent(a.id)}/retry`);
    } catch (e) {
      await loadConnectors(connector.name).catch(() => {});
      throw e;
    }
    await loadConnectors(connector.name);
    say(`Action ${a.id} on ticket ${a.external_id} is queued again; its tries start over.`);
    $('outbox-title')?.focus(); // the button is gone with the old table
  });
}

// ---------- major incidents ----------

/** How often the banner asks whether an incident is open, in milliseconds. */
const INCIDENT_BANNER_MS = 60000;
const INCIDENT_STATUS_TEXT = { suspected: 'suspected', confirmed: 'confirmed', resolved: 'resolved', dismissed: 'dismissed' };
const isOpenIncident = (i) => i.status === 'suspected' || i.status === 'confirmed';
/** Width of one bar of the arrivals chart, in minutes. */
const ARRIVAL_BUCKET_MINUTES = 10;

const incidentLink = (i, ...children) => h('a', { href: `#/incidents/${encodeURIComponent(i.id)}` }, children);
const statusBadge = (status) => h('span', { class: `badge incident-${status}`, dataset: { status } }, INCIDENT_STATUS_TEXT[status] || status);
/** "2026-11-30T18:04:12Z" as "2026-11-30 18:04 UTC", in a <time> element that keeps the exact value. */
const when = (t) => (t ? h('time', { datetime: t, title: t }, shortTime(t)) : '–');

function shortTime(t) {
  const d = new Date(t);
  if (Number.isNaN(d.getTime())) return String(t);
  return `${d.toISOString().slice(0, 10)} ${d.toISOString().slice(11, 16)} UTC`;
}

function tenantName(id) {
  const t = (state.session?.tenants || []).find((x) => x.id === id);
  return t ? t.name : id;
}

/** Starts the banner's own refresh; the banner is also refreshed on every view change. */
function startIncidentBanner() {
  stopIncidentBanner();
  if (!can('read_incidents')) return;
  state.incidentTimer = setInterval(() => { refreshIncidentBanner(); }, INCIDENT_BANNER_MS);
}

function stopIncidentBanner() {
  if (state.incidentTimer) clearInterval(state.incidentTimer);
  state.incidentTimer = null;
  state.bannerShown = null;
  const banner = $('incident-banner');
  banner.hidden = true;
  clear(banner);
}

/** Open incidents that touch the key's tenant (the API answers only those; operators see every
 * one) above every view. A failed refresh keeps what is shown: the views report their own errors. */
async function refreshIncidentBanner() {
  if (!can('read_incidents')) return;
  const key = state.key;
  let data;
  try {
    data = await api('GET', '/v1/incidents?status=open');
  } catch (e) {
    return;
  }
  if (state.key !== key || !state.session) return; // signed out (or in as someone else) meanwhile
  renderIncidentBanner(data.incidents.filter(isOpenIncident));
}

function renderIncidentBanner(incidents) {
  // Redrawn only when something changed, so a screen reader does not hear it again every minute.
  const shown = JSON.stringify(incidents.map((i) => [i.id, i.status, i.title, i.message]));
  if (shown === state.bannerShown) return;
  state.bannerShown = shown;
  const banner = clear($('incident-banner'));
  banner.hidden = !incidents.length;
  if (!incidents.length) return;
  banner.append(h('ul', null, incidents.map((i) => h('li', { dataset: { id: i.id, status: i.status } },
    statusBadge(i.status), ' ', h('strong', null, i.status === 'confirmed' ? 'Known major incident: ' : 'Suspected major incident: '), incidentLink(i, i.title), '.',
    i.message ? [' ', h('span', { class: 'tell' }, h('strong', null, 'Tell callers: '), i.message)] : null))));
}

async function loadIncidents(id) {
  $('incidents-list').hidden = Boolean(id);
  const detail = clear($('incident-detail'));
  if (id) {
    detail.append(h('p', null, h('a', { href: '#/incidents', id: 'incidents-back' }, '← All incidents')));
    renderIncident(await api('GET', `/v1/incidents/${encodeURIComponent(id)}`));
    return;
  }
  $('incidents-status').value = state.incidentFilter || 'open';
  await loadIncidentList();
}

async function loadIncidentList() {
  const filter = state.incidentFilter || 'open';
  const data = await api('GET', `/v1/incidents?status=${encodeURIComponent(filter)}`);
  const out = clear($('incidents-body'));
  if (!data.incidents.length) {
    out.append(h('p', { class: 'muted', id: 'incidents-empty' }, filter === 'open'
      ? 'No open incident: nothing is surging across the desk right now.'
      : 'No incident has been detected yet.'));
    return;
  }
  out.append(h('div', { class: 'table-wrap' }, h('table', { id: 'incidents-table' },
    h('caption', { class: 'muted' }, `${plural(data.incidents.length, 'incident', 'incidents')}, newest first`),
    h('thead', null, h('tr', null, ['Status', 'Incident', 'Top terms', 'Tenants', 'Tickets', 'First seen', 'Last seen']
      .map((x, i) => h('th', { scope: 'col', class: i === 4 ? 'num' : null }, x)))),
    h('tbody', null, data.incidents.map(incidentRow)))));
}

function incidentRow(i) {
  return h('tr', { dataset: { id: i.id, status: i.status } },
    h('td', null, statusBadge(i.status)),
    h('td', null, incidentLink(i, h('strong', null, i.title)), h('div', { class: 'muted' }, h('code', null, i.id))),
    h('td', null, h('ul', { class: 'terms' }, i.top_terms.map((t) => h('li', null, t)))),
    h('td', { class: 'tenants' }, i.tenants.join(', ')),
    h('td', { class: 'num' }, i.count),
    h('td', null, when(i.first_seen)),
    h('td', null, when(i.last_seen)));
}

function renderIncident(inc) {
  const out = $('incident-detail');
  while (out.childNodes.length > 1) out.removeChild(out.lastChild); // keep the way back
  document.title = `${inc.title} · Major incidents · triage console`;
  append(out, [
    h('h2', { id: 'incident-title', tabindex: -1, dataset: { id: inc.id, status: inc.status } }, statusBadge(inc.status), ' ', inc.title),
    h('p', { class: 'muted' }, h('code', null, inc.id), ' · opened ', when(inc.opened_at), ` · ${INCIDENT_STATUS_TEXT[inc.status] || inc.status} since `, when(inc.status_changed_at)),
    h('div', { class: 'kpis', id: 'incident-kpis' }, [
      ['count', 'Tickets', inc.count],
      ['expected', 'Expected when opened', num(inc.expected_at_open, 2)],
      ['first_seen', 'First seen', when(inc.first_seen)],
      ['last_seen', 'Last seen', when(inc.last_seen)],
    ].map(([key, k, v]) => h('div', { class: 'kpi', dataset: { kpi: key } }, h('div', { class: 'k' }, k), h('div', { class: 'v' }, v)))),
    h('p', { class: 'help' }, `Expected: how many tickets like these the desk's usual traffic would bring in the window when it opened; ${inc.count} arrived.`),
    h('dl', { class: 'facts', id: 'incident-facts' },
      h('dt', null, 'Tenants'), h('dd', { id: 'incident-tenants' }, inc.tenants.map(tenantName).join(', ') || '–'),
      h('dt', null, 'Top terms'), h('dd', null, h('ul', { class: 'terms' }, inc.top_terms.map((t) => h('li', null, t)))),
      h('dt', null, 'Message for agents'), h('dd', { id: 'incident-message' }, inc.message || h('span', { class: 'muted' }, 'none yet'))),
    arrivalsChart(inc),
    incidentActions(inc),
    membersTable(inc)]);
}

/** Arrivals per ten minutes from the first member on, as bars; each bar says its numbers. */
function arrivalsChart(inc) {
  const counts = inc.arrivals_per_10_min || [];
  const w = 560;
  const ht = 220;
  const m = { l: 40, r: 12, t: 12, b: 44 };
  const max = Math.max(1, ...counts);
  const slot = counts.length ? (w - m.l - m.r) / counts.length : 0;
  const y = (v) => ht - m.b - (v / max) * (ht - m.t - m.b);
  const start = Date.parse(inc.first_seen);
  const bucketStart = (i) => new Date(start + i * ARRIVAL_BUCKET_MINUTES * 60000);
  const clock = (d) => (Number.isNaN(d.getTime()) ? '' : d.toISOString().slice(11, 16));
  const peak = counts.length ? Math.max(...counts) : 0;
  const svg = s('svg', { viewBox: `0 0 ${w} ${ht}`, width: w, height: ht, role: 'img', id: 'incident-chart', class: 'bars', 'aria-labelledby': 'incident-chart-title incident-chart-desc' },
    s('title', { id: 'incident-chart-title' }, `Tickets per ${ARRIVAL_BUCKET_MINUTES} minutes in ${inc.title}`),
    s('desc', { id: 'incident-chart-desc' }, counts.length
      ? `${plural(inc.count, 'ticket', 'tickets')} over ${plural(counts.length, 'interval', 'intervals')} of ${ARRIVAL_BUCKET_MINUTES} minutes from ${clock(bucketStart(0))} UTC; at most ${peak} in one interval.`
      : 'No arrivals recorded.'));
  for (const f of [0, 0.5, 1]) {
    const v = Math.round(max * f);
    if (f === 0.5 && (v === 0 || v === max)) continue;
    svg.append(s('line', { x1: m.l, x2: w - m.r, y1: y(v), y2: y(v), stroke: '#e3e6ec' }));
    svg.append(s('text', { x: m.l - 6, y: y(v) + 4, 'text-anchor': 'end' }, v));
  }
  const barWidth = Math.max(1, Math.min(48, slot - 2 * Math.min(2, slot * 0.1)));
  counts.forEach((v, i) => {
    const from = bucketStart(i);
    const bar = s('rect', { x: m.l + (i + 0.5) * slot - barWidth / 2, y: y(v), width: barWidth, height: y(0) - y(v), class: 'bar', dataset: { value: v } },
      s('title', null, `${clock(from)}–${clock(new Date(from.getTime() + ARRIVAL_BUCKET_MINUTES * 60000))} UTC: ${plural(v, 'ticket', 'tickets')}`));
    svg.append(bar);
  });
  const ticks = Math.min(6, counts.length);
  for (let k = 0; k < ticks; k++) {
    const i = Math.round((k * (counts.length - 1)) / Math.max(1, ticks - 1));
    svg.append(s('text', { x: m.l + (i + 0.5) * slot, y: ht - m.b + 14, 'text-anchor': 'middle', class: 'tick' }, clock(bucketStart(i))));
  }
  svg.append(s('line', { x1: m.l, y1: y(0), x2: w - m.r, y2: y(0), stroke: '#5b6577' }));
  svg.append(s('text', { x: m.l + (w - m.l - m.r) / 2, y: ht - 6, 'text-anchor': 'middle' }, `time (UTC), ${ARRIVAL_BUCKET_MINUTES}-minute intervals`));
  svg.append(s('text', { transform: `translate(11,${y(max / 2)}) rotate(-90)`, 'text-anchor': 'middle' }, 'tickets'));
  const table = h('details', null, h('summary', null, 'Data'), h('div', { class: 'table-wrap' }, h('table', { id: 'incident-arrivals' },
    h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'From (UTC)'), h('th', { scope: 'col', class: 'num' }, 'Tickets'))),
    h('tbody', null, counts.map((v, i) => h('tr', null, h('td', null, `${bucketStart(i).toISOString().slice(0, 10)} ${clock(bucketStart(i))}`), h('td', { class: 'num' }, v)))))));
  return h('figure', { class: 'incident-figure' }, h('figcaption', null, `Arrivals per ${ARRIVAL_BUCKET_MINUTES} minutes`), svg, table);
}

function membersTable(inc) {
  const members = inc.members || [];
  return [h('h3', null, 'Tickets'),
    state.session.tenant ? h('p', { class: 'help' }, 'Only your tenant\'s tickets are listed; the count covers every tenant.') : null,
    h('div', { class: 'table-wrap' }, h('table', { id: 'incident-members' },
      h('thead', null, h('tr', null, ['Time', 'Tenant', 'Title', 'Similarity'].map((x, i) => h('th', { scope: 'col', class: i === 3 ? 'num' : null }, x)))),
      h('tbody', null, members.length ? members.map((mb) => h('tr', { dataset: { triage: mb.triage_id, tenant: mb.tenant } },
        h('td', null, when(mb.at)), h('td', null, mb.tenant ? tenantName(mb.tenant) : '–'),
        h('td', null, mb.title || h('span', { class: 'muted' }, '(no title)'), h('div', { class: 'muted' }, h('code', null, mb.triage_id))),
        h('td', { class: 'num' }, pct(mb.similarity))))
        : h('tr', null, h('td', { colspan: 4, class: 'muted' }, 'No tickets to show.')))))];
}

/** What an operator or admin may do next, as the service allows it: confirm unless confirmed or
 * dismissed (a resolved incident may be confirmed again), a message unless dismissed, resolve and
 * dismiss while open. The API has the last word (409 on a stale page). */
function incidentActions(inc) {
  if (!can('manage_incidents')) return null;
  const open = isOpenIncident(inc);
  const box = h('section', { class: 'card', id: 'incident-actions', 'aria-label': 'Manage the incident' });
  if (inc.status === 'dismissed') {
    box.append(h('p', { class: 'muted' }, 'Dismissed: not a major incident. It links no new tickets and cannot be changed.'));
    return box;
  }
  const message = h('textarea', { id: 'incident-message-input', rows: 3, maxlength: 4000, 'aria-describedby': 'incident-message-help' });
  message.value = inc.message || '';
  box.append(h('label', { for: 'incident-message-input' }, 'Message for agents'), message,
    h('p', { class: 'help', id: 'incident-message-help' }, 'What agents should tell callers: shown in the banner and as the first suggestion on every matching ticket.'));
  const row = h('div', { class: 'actions' });
  const act = (label, action, opts = {}) => {
    const b = h('button', { type: 'button', class: opts.cls || null, dataset: { action } }, label);
    b.addEventListener('click', () => opts.onClick(b));
    row.append(b);
  };
  if (inc.status !== 'confirmed' && inc.status !== 'dismissed') {
    act('Confirm', 'confirm', { onClick: (b) => changeIncident(b, inc, 'POST', 'confirm', { message: message.value.trim() || undefined }, 'confirmed') });
  }
  act('Set message', 'message', { cls: 'secondary', onClick: (b) => changeIncident(b, inc, 'PUT', 'message', { message: message.value.trim() }, 'message') });
  if (open) {
    act('Resolve', 'resolve', { cls: 'secondary', onClick: async (b) => {
      if (!await confirmDialog(`Resolve “${inc.title}”?`, 'The banner goes away; new similar tickets are still linked to it, with the message above, for a short grace period.', 'Resolve')) return;
      await changeIncident(b, inc, 'POST', 'resolve', { message: message.value.trim() || undefined }, 'resolved');
    } });
  }
  box.append(row);
  if (open) {
    const reason = h('input', { id: 'incident-dismiss-reason', maxlength: 4000, placeholder: 'e.g. a training session, not a fault' });
    const dismiss = h('div', { class: 'dismiss' }, h('label', { for: 'incident-dismiss-reason' }, 'Reason for dismissing'), reason);
    const b = h('button', { type: 'button', class: 'danger', dataset: { action: 'dismiss' } }, 'Dismiss');
    b.addEventListener('click', async () => {
      if (!await confirmDialog(`Dismiss “${inc.title}”?`, 'It is not a major incident: the banner goes away and similar tickets are not linked to it again.', 'Dismiss')) return;
      await changeIncident(b, inc, 'POST', 'dismiss', { reason: reason.value.trim() || undefined }, 'dismissed');
    });
    dismiss.append(b);
    box.append(dismiss);
  }
  return box;
}

const CHANGED_TEXT = {
  confirmed: 'confirmed: agents see it in the banner and on matching tickets',
  message: 'message saved: agents see it from their next refresh',
  resolved: 'resolved',
  dismissed: 'dismissed',
};

async function changeIncident(button, inc, method, action, body, done) {
  await withBusy(button, async () => {
    const updated = await api(method, `/v1/incidents/${encodeURIComponent(inc.id)}/${action}`, body);
    renderIncident(updated);
    say(`Incident “${updated.title}” ${CHANGED_TEXT[done]}.`);
    $('incident-title')?.focus(); // the button is gone with the old detail
    refreshIncidentBanner();
  });
}

// ---------- audit ----------

async function loadAudit() {
  const data = await api('GET', '/v1/admin/audit?limit=200');
  const out = clear($('audit-body'));
  out.append(h('div', { class: 'table-wrap' }, h('table', { id: 'audit-table' },
    h('thead', null, h('tr', null, ['Time', 'Action', 'Target', 'Outcome', 'Tenant', 'Key'].map((x) => h('th', { scope: 'col' }, x)))),
    h('tbody', null, data.entries.length ? data.entries.map((e) => h('tr', null, h('td', null, e.at), h('td', null, e.action), h('td', null, e.target),
      h('td', null, e.outcome), h('td', null, e.tenant || 'all'), h('td', null, h('code', null, e.key_id || 'system'))))
      : h('tr', null, h('td', { colspan: 6, class: 'muted' }, 'Nothing recorded yet.'))))));
}

// ---------- start ----------

function start() {
  $('signin-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const key = $('signin-key').value.trim();
    if (!key) return;
    await withBusy(event.submitter, async () => {
      try {
        await signIn(key);
      } catch (e) {
        if (e.status === 401) throw new ApiError('that key was refused: it is not valid or has been revoked. Check it and try again.', e.code, 401, 'Sign-in failed');
        throw e;
      }
      $('signin-key').value = '';
      say('Signed in.');
      if (route().view === 'signin' || !route().view) location.hash = '#/triage';
      await render();
      $('main').focus();
    });
  });
  $('sign-out').addEventListener('click', () => { signOut(); say('Signed out.'); });
  $('triage-form').addEventListener('submit', submitTriage);
  $('open-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const id = $('open-id').value.trim();
    if (id) location.hash = `#/triage/${encodeURIComponent(id)}`;
  });
  $('kb-search-form').addEventListener('submit', searchKb);
  $('gaps-form').addEventListener('submit', showGaps);
  $('desk-form').addEventListener('submit', (event) => { event.preventDefault(); withBusy(event.submitter, loadDesk); });
  $('incidents-form').addEventListener('submit', (event) => { event.preventDefault(); withBusy(event.submitter, loadIncidentList); });
  $('incidents-status').addEventListener('change', () => {
    state.incidentFilter = $('incidents-status').value;
    withBusy(null, loadIncidentList);
  });
  $('tenant-select').addEventListener('change', () => {
    sessionStorage.setItem(TENANT_STORE, tenant() || '');
    clear($('triage-result'));
    render();
  });
  window.addEventListener('hashchange', () => { clearError(); render(); });

  const saved = sessionStorage.getItem(KEY_STORE);
  if (saved) {
    signIn(saved).then(render, () => { sessionStorage.removeItem(KEY_STORE); render(); });
  } else {
    render();
  }
}

document.addEventListener('DOMContentLoaded', start);
