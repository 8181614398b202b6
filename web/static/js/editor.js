// The process editor page: bpmn-js modeler, DMN tabs, drafts, validation, dry runs and deploy.
(function () {
  'use strict';

  const config = JSON.parse(document.getElementById('editor-config').textContent);
  const text = config.text;
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const $ = (id) => document.getElementById(id);
  const status = $('editor-status');

  window.teamflowGroups = config.groups;
  const files = Object.assign({}, config.files);
  const dmnModelers = {};
  let dirty = false;
  let problemIds = [];
  let trialIds = { completed: [], active: [], error: [] };
  let manualSteps = [];
  let lastTrial = null;

  const modeler = window.TeamflowModeler.create($('canvas'), $('panel'), {
    xml: files[config.bpmnFile],
    locale: config.locale
  });
  window.teamflowEditor = { modeler, dmnModelers };
  modeler.on('commandStack.changed', markDirty);

  function markDirty() {
    dirty = true;
    say(text.unsaved);
  }

  function say(message, kind) {
    status.textContent = message || '';
    status.className = 'status' + (kind ? ' status-' + kind : '');
  }

  window.addEventListener('beforeunload', (event) => {
    if (dirty) {
      event.preventDefault();
      event.returnValue = '';
    }
  });

  // Candidate groups: offer the groups that exist, with their Chinese names, on the panel's input.
  new MutationObserver(() => {
    document.querySelectorAll('#panel input[id*="candidateGroups"]').forEach((input) => {
      if (input.getAttribute('list') !== 'known-groups') {
        input.setAttribute('list', 'known-groups');
        const names = Object.entries(config.groups).map(([id, name]) => id + ' ' + name).join(', ');
        input.title = names;
      }
    });
  }).observe($('panel'), { childList: true, subtree: true });

  // Tabs: the diagram, then one per decision table file.
  document.querySelectorAll('#editor-tabs .tab').forEach((tab) => {
    tab.addEventListener('click', () => showTab(tab));
  });

  function showTab(tab) {
    document.querySelectorAll('#editor-tabs .tab').forEach((t) => t.setAttribute('aria-selected', String(t === tab)));
    const isDmn = tab.dataset.tab === 'dmn';
    $('bpmn-tab').hidden = isDmn;
    $('dmn-tab').hidden = !isDmn;
    if (!isDmn) {
      modeler.get('canvas').resized();
      return;
    }
    const name = tab.dataset.file;
    for (const el of $('dmn-tab').children) {
      el.hidden = el.dataset.file !== name;
    }
    if (!dmnModelers[name]) {
      const el = document.createElement('div');
      el.className = 'tf-dmn-file';
      el.dataset.file = name;
      $('dmn-tab').appendChild(el);
      const dmn = window.TeamflowDmn.create(el, { xml: files[name] });
      dmnModelers[name] = dmn;
      dmn.teamflowImport.then(() => {
        const decision = dmn.getViews().find((v) => v.type === 'decisionTable');
        if (decision) {
          dmn.open(decision);
        }
      });
      dmn.on('views.changed', () => {
        const viewer = dmn.getActiveViewer();
        if (viewer && !viewer.teamflowWatched) {
          viewer.teamflowWatched = true;
          viewer.on('commandStack.changed', markDirty);
        }
      });
    }
  }

  function tabOf(file) {
    return document.querySelector(`#editor-tabs .tab[data-file="${CSS.escape(file)}"]`);
  }

  async function api(method, path, body) {
    const response = await fetch(config.api + path, {
      method,
      headers: { 'Content-Type': 'application/json', 'X-CSRFToken': csrf, Accept: 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin'
    });
    const payload = response.status === 204 ? {} : await response.json();
    return { ok: response.ok, status: response.status, payload };
  }

  async function collect() {
    const { xml } = await modeler.saveXML({ format: true });
    files[config.bpmnFile] = xml;
    for (const [name, dmn] of Object.entries(dmnModelers)) {
      files[name] = (await dmn.saveXML({ format: true })).xml;
    }
    return files;
  }

  async function save() {
    const result = await api('PUT', '/draft', { files: await collect(), bpmn_file: config.bpmnFile });
    if (!result.ok) {
      say(text.saveFailed + ' ' + result.payload.message, 'error');
      showProblems(problemsOf(result.payload));
      return false;
    }
    dirty = false;
    $('btn-discard').hidden = false;
    $('draft-state').dataset.saved = '1';
    say(text.saved, 'ok');
    return true;
  }

  function problemsOf(payload) {
    return (payload.details || []).map((d) => ({
      element_id: d.element_id, element_name: null, message: d.message || d.field, file: d.file || '', kind: 'definition'
    }));
  }

  // Problems: listed with element id, name and message; every element with one is marked.
  function clearMarkers(ids, cssClass) {
    const canvas = modeler.get('canvas');
    const registry = modeler.get('elementRegistry');
    for (const id of ids) {
      if (registry.get(id)) {
        canvas.removeMarker(id, cssClass);
      }
    }
  }

  function addMarkers(ids, cssClass) {
    const canvas = modeler.get('canvas');
    const registry = modeler.get('elementRegistry');
    const shown = [];
    for (const id of ids) {
      if (id && registry.get(id)) {
        canvas.addMarker(id, cssClass);
        shown.push(id);
      }
    }
    return shown;
  }

  function focusElement(id, file) {
    if (file && file.endsWith('.dmn') && tabOf(file)) {
      showTab(tabOf(file));
      return;
    }
    showTab(document.querySelector('#editor-tabs .tab[data-tab="bpmn"]'));
    const element = modeler.get('elementRegistry').get(id);
    if (!element) {
      return;
    }
    modeler.get('selection').select(element);
    modeler.get('canvas').scrollToElement(element);
  }

  function showProblems(problems) {
    clearMarkers(problemIds, 'tf-problem');
    const list = $('problems');
    list.replaceChildren();
    $('problems-card').hidden = false;
    const serious = problems.filter((p) => p.kind !== 'warning');
    $('problems-summary').textContent = serious.length ? text.problems.replace('{n}', serious.length) : text.valid;
    $('problems-summary').className = serious.length ? 'field-error' : 'ok';
    for (const problem of problems) {
      const item = document.createElement('li');
      item.className = 'problem problem-' + problem.kind;
      item.dataset.elementId = problem.element_id || '';
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'link';
      const where = [problem.element_name, problem.element_id].filter(Boolean).join(' · ') || problem.file;
      const strong = document.createElement('strong');
      strong.textContent = where;
      button.append(strong, document.createTextNode(': ' + problem.message));
      button.addEventListener('click', () => focusElement(problem.element_id, problem.file));
      item.appendChild(button);
      list.appendChild(item);
    }
    problemIds = addMarkers(problems.map((p) => p.element_id), 'tf-problem');
  }

  async function validate() {
    if (!(await save())) {
      return null;
    }
    const result = await api('POST', '/draft/validate', fallback());
    if (!result.ok) {
      say(result.payload.message, 'error');
      return null;
    }
    showProblems(result.payload.problems);
    const serious = result.payload.problems.filter((p) => p.kind !== 'warning');
    say(serious.length ? text.problems.replace('{n}', serious.length) : text.valid, serious.length ? 'error' : 'ok');
    return result.payload;
  }

  // Try it: a dry run on the server, drawn on the diagram.
  function clearTrial() {
    clearMarkers(trialIds.completed, 'tf-completed');
    clearMarkers(trialIds.active, 'tf-active');
    clearMarkers(trialIds.error, 'tf-error');
    trialIds = { completed: [], active: [], error: [] };
  }

  function inputFor(field) {
    const wrap = document.createElement('div');
    wrap.className = 'field';
    const label = document.createElement('label');
    label.htmlFor = 'trial-' + field.id;
    label.textContent = field.label + (field.required ? ' *' : '');
    let input;
    if (field.type === 'enum') {
      input = document.createElement('select');
      input.appendChild(new Option('', ''));
      for (const option of field.options) {
        input.appendChild(new Option(option.name, option.id));
      }
    } else if (field.type === 'boolean') {
      input = document.createElement('input');
      input.type = 'checkbox';
    } else {
      input = document.createElement('input');
      input.type = { long: 'number', double: 'number', date: 'date' }[field.type] || 'text';
      if (field.type === 'double') {
        input.step = 'any';
      }
    }
    input.id = 'trial-' + field.id;
    input.name = field.id;
    input.dataset.type = field.type;
    if (field.default !== null && field.default !== undefined) {
      if (field.type === 'boolean') {
        input.checked = Boolean(field.default);
      } else {
        input.value = String(field.default);
      }
    }
    wrap.append(label, input);
    return wrap;
  }

  function showTrial(trial) {
    clearTrial();
    const steps = $('trial-steps');
    steps.replaceChildren();
    for (const step of trial.steps) {
      const item = document.createElement('li');
      const label = { start: text.started, timer: text.timer, task: text.task }[step.kind];
      item.textContent = label + (step.name ? ': ' + step.name : '');
      const data = document.createElement('pre');
      data.textContent = JSON.stringify(step.data, null, 1);
      const details = document.createElement('details');
      details.append(document.createElement('summary'), data);
      details.firstChild.textContent = '…';
      item.appendChild(details);
      steps.appendChild(item);
    }
    trialIds.completed = addMarkers(trial.completed, 'tf-completed');
    trialIds.active = addMarkers(trial.active, 'tf-active');
    $('trial-error').hidden = !trial.error;
    $('trial-error').textContent = trial.error ? text.error + ': ' + (trial.error_element || '') + ' ' + trial.error : '';
    modeler.get('overlays').remove({ type: 'tf-trial' });
    if (trial.error_element) {
      trialIds.error = addMarkers([ trial.error_element ], 'tf-error');
      if (modeler.get('elementRegistry').get(trial.error_element)) {
        const note = document.createElement('div');
        note.className = 'tf-trial-error';
        note.textContent = trial.error;
        modeler.get('overlays').add(trial.error_element, 'tf-trial', { position: { bottom: -8, left: 0 }, html: note });
      }
    }
    $('trial-data').textContent = JSON.stringify(trial.data, null, 1);
    const waiting = !trial.error && trial.waiting.length ? trial.waiting[0] : null;
    $('trial-form').hidden = !waiting;
    if (waiting) {
      $('trial-form').dataset.task = waiting.element_id;
      $('trial-task').textContent = text.waitingFor.replace('{name}', waiting.name);
      $('trial-fields').replaceChildren(...waiting.form.map(inputFor));
    }
    $('trial-end').hidden = !trial.finished;
    $('save-scenario').hidden = !trial.finished || Boolean(trial.error);
    lastTrial = trial;
    $('trial-end').textContent = text.ended.replace('{ends}', trial.ended.map(nameOf).join(', '));
  }

  function nameOf(id) {
    const element = modeler.get('elementRegistry').get(id);
    return (element && element.businessObject.name) || id;
  }

  async function runTrial(steps) {
    if (dirty && !(await save())) {
      return;
    }
    const result = await api('POST', '/draft/dry-run', { steps });
    if (!result.ok) {
      say(result.payload.message, 'error');
      showProblems(problemsOf(result.payload));
      return;
    }
    showTrial(result.payload);
  }

  $('btn-try').addEventListener('click', () => {
    $('try-card').hidden = false;
    $('try-card').scrollIntoView({ block: 'nearest' });
  });
  $('btn-run').addEventListener('click', () => {
    const chosen = $('scenario-select').value;
    manualSteps = chosen === '' ? [] : config.scenarios[Number(chosen)].steps.slice();
    runTrial(manualSteps);
  });
  $('trial-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const data = {};
    for (const input of $('trial-fields').querySelectorAll('input, select')) {
      if (input.type === 'checkbox') {
        data[input.name] = input.checked;
      } else if (input.value !== '') {
        data[input.name] = input.value;
      }
    }
    manualSteps.push({ task: $('trial-form').dataset.task, data });
    runTrial(manualSteps);
  });

  function fallback() {
    const group = $('fallback-group').value;
    return group ? { fallback_group: group } : {};
  }

  $('btn-save-scenario').addEventListener('click', async () => {
    const name = $('scenario-name').value.trim();
    if (!name || !lastTrial) {
      $('scenario-name').focus();
      return;
    }
    const ends = lastTrial.ended.filter((id) => !/Escalation/.test(id));
    const result = await api('PUT', '/scenarios', {
      name, steps: manualSteps, expected_end: (ends[0] || lastTrial.ended[0] || null), expected_data: {}
    });
    if (!result.ok) {
      say(result.payload.message, 'error');
      return;
    }
    config.scenarios.push({ name, steps: manualSteps.slice() });
    $('scenario-select').appendChild(new Option(name, String(config.scenarios.length - 1)));
    say(text.scenarioSaved, 'ok');
  });

  // Save, validate, deploy, discard.
  $('btn-save').addEventListener('click', save);
  $('btn-validate').addEventListener('click', validate);
  $('btn-discard').addEventListener('click', async () => {
    if (!window.confirm(text.discard)) {
      return;
    }
    const result = await api('DELETE', '/draft');
    if (result.ok || result.status === 404) {
      dirty = false;
      window.location.reload();
    }
  });

  const dialog = $('deploy-dialog');
  $('btn-deploy').addEventListener('click', async () => {
    const checked = await validate();
    if (!checked) {
      return;
    }
    const blocking = checked.problems.filter((p) => p.kind === 'definition');
    if (blocking.length) {
      return;
    }
    $('deploy-confirm-label').hidden = !checked.problems.some((p) => p.kind === 'scenario');
    $('deploy-error').hidden = true;
    dialog.showModal();
  });
  $('btn-deploy-cancel').addEventListener('click', () => dialog.close());
  $('btn-deploy-go').addEventListener('click', async () => {
    const note = $('deploy-note').value.trim();
    if (!note) {
      $('deploy-error').textContent = text.noteRequired;
      $('deploy-error').hidden = false;
      return;
    }
    const result = await api('POST', '/draft/deploy', { note, confirm: $('deploy-confirm').checked, ...fallback() });
    if (!result.ok) {
      $('deploy-error').textContent = result.payload.message;
      $('deploy-error').hidden = false;
      return;
    }
    dialog.close();
    dirty = false;
    const made = result.payload.processes.find((p) => p.key === config.key) || result.payload.processes[0];
    say(made && made.created ? text.deployed.replace('{version}', made.version) : text.unchanged, 'ok');
    $('btn-discard').hidden = true;
    document.body.dataset.deployed = made ? String(made.version) : '';
  });
})();
