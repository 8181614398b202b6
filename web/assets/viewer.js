// Read-only diagram viewer with instance markers: window.TeamflowViewer.
//
// TeamflowViewer.render(container, xml, {completed, active, error, counts})
// imports the BPMN XML into a NavigatedViewer inside `container`, marks the
// given element ids, adds count badges, zooms to fit and resolves to
// {warnings, missing, viewer}. When done, container.dataset.ready is "1".

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
async function render(container, xml, marks = {}) {
  destroy(container);
  container.dataset.ready = '0';

  const viewer = new NavigatedViewer({ container });
  viewers.set(container, viewer);

  const { warnings } = await viewer.importXML(xml);
  const missing = mark(viewer, marks);

  fitViewport(viewer);
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
