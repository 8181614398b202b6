// Read-only diagram viewer with instance markers: window.TeamflowViewer.
//
// TeamflowViewer.render(container, xml, {completed, active, error, counts})
// imports the BPMN XML into a NavigatedViewer inside `container`, marks the
// given element ids, adds count badges, zooms to fit and resolves to
// {warnings, missing, viewer}. When done, container.dataset.ready is "1".
//
// With options.controls ({zoomIn, zoomOut, fit} button titles), the diagram gets
// zoom and fit buttons, the mouse wheel scrolls the page until the diagram is
// focused (clicked or tabbed to), and a wide diagram opens at a readable zoom
// around its active element instead of shrinking to fit.

import NavigatedViewer from 'bpmn-js/lib/NavigatedViewer';

import 'bpmn-js/dist/assets/diagram-js.css';
import 'bpmn-js/dist/assets/bpmn-js.css';
import './viewer.css';

import { MARKERS, addBadge, fitViewport } from './lib/markers.js';

const viewers = new WeakMap();

/**
 * Render `xml` into `container`, replacing any diagram rendered there before.
 *
 * @param {HTMLElement} container
 * @param {string} xml
 * @param {{completed?: string[], active?: string[], error?: string[], counts?: Object<string, number>}} [marks]
 * @return {Promise<{warnings: Array, missing: string[], viewer: NavigatedViewer}>}
 */
async function render(container, xml, marks = {}, options = {}) {
  destroy(container);
  container.dataset.ready = '0';

  // With controls, the wheel zooms only while the diagram is focused (see addControls).
  const wheel = { enabled: !options.controls };
  const viewer = new NavigatedViewer({ container, zoomScroll: wheel });
  viewers.set(container, viewer);

  const { warnings } = await viewer.importXML(xml);
  const missing = mark(viewer, marks);

  fitViewport(viewer);
  if (options.controls) {
    addControls(container, viewer, options.controls, (marks.active || [])[0], wheel);
  }
  container.dataset.ready = '1';

  return { warnings, missing, viewer };
}

/**
 * Apply markers and count badges; return the ids not found in the diagram.
 */
function mark(viewer, marks) {
  const canvas = viewer.get('canvas');
  const elementRegistry = viewer.get('elementRegistry');
  const overlays = viewer.get('overlays');
  const missing = new Set();

  for (const [ key, cssClass ] of Object.entries(MARKERS)) {
    for (const id of marks[key] || []) {
      if (elementRegistry.get(id)) {
        canvas.addMarker(id, cssClass);
      } else {
        missing.add(String(id));
      }
    }
  }

  for (const [ id, count ] of Object.entries(marks.counts || {})) {
    const element = elementRegistry.get(id);
    if (!element) {
      missing.add(String(id));
      continue;
    }
    addBadge(overlays, element, count);
  }

  return [ ...missing ];
}

// Below this zoom, labels are too small to read.
const READABLE_ZOOM = 0.75;

/** Readable zoom around the active element when fitting shrinks the diagram too far. */
function readableView(viewer, activeId) {
  const canvas = viewer.get('canvas');
  fitViewport(viewer);
  const element = activeId && viewer.get('elementRegistry').get(activeId);
  if (canvas.zoom() >= READABLE_ZOOM || !element) {
    return;
  }
  canvas.zoom(READABLE_ZOOM);
  const box = canvas.viewbox();
  canvas.viewbox({
    x: element.x + element.width / 2 - box.width / 2,
    y: element.y + element.height / 2 - box.height / 2,
    width: box.width,
    height: box.height
  });
}

function addControls(container, viewer, titles, activeId, wheel) {
  const canvas = viewer.get('canvas');
  const zoomScroll = viewer.get('zoomScroll');

  // The wheel belongs to the page until the diagram is focused. ZoomScroll re-reads its config
  // on every mouseover, so the focus state lives there.
  const focusWheel = (on) => {
    wheel.enabled = on;
    zoomScroll.toggle(on);
    container.dataset.focused = on ? '1' : '0';
  };
  container.tabIndex = 0;
  // The canvas focuses its own svg when clicked: focus anywhere inside the box counts.
  container.addEventListener('focusin', () => focusWheel(true));
  container.addEventListener('focusout', (event) => {
    if (!container.contains(event.relatedTarget)) {
      focusWheel(false);
    }
  });
  container.addEventListener('mousedown', () => container.focus());

  const bar = document.createElement('div');
  bar.className = 'tf-zoom';
  const buttons = [
    [ 'zoom-in', '+', titles.zoomIn, () => canvas.zoom(canvas.zoom() * 1.25) ],
    [ 'zoom-out', '\u2212', titles.zoomOut, () => canvas.zoom(canvas.zoom() / 1.25) ],
    [ 'zoom-fit', '\u2922', titles.fit, () => fitViewport(viewer) ]
  ];
  for (const [ name, text, title, action ] of buttons) {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'tf-zoom-' + name;
    button.textContent = text;
    button.title = title || name;
    button.setAttribute('aria-label', title || name);
    button.addEventListener('click', (event) => { event.stopPropagation(); action(); });
    bar.appendChild(button);
  }
  container.appendChild(bar);
  readableView(viewer, activeId);
}

/** Return the viewer rendered into `container`, if any. */
function get(container) {
  return viewers.get(container) || null;
}

/** Destroy the viewer rendered into `container`, if any. */
function destroy(container) {
  const viewer = viewers.get(container);
  if (viewer) {
    viewer.destroy();
    viewers.delete(container);
  }
}

window.TeamflowViewer = { render, get, destroy };
