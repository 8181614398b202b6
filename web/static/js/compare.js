// Colour what changed on both diagrams of the compare page.
(function () {
  'use strict';

  const config = JSON.parse(document.getElementById('compare-config').textContent);
  const CLASSES = { added: 'tf-added', removed: 'tf-removed', changed: 'tf-changed' };

  async function show(id, xml, kinds) {
    const container = document.getElementById(id);
    const { viewer } = await window.TeamflowViewer.render(container, xml, {});
    const canvas = viewer.get('canvas');
    const registry = viewer.get('elementRegistry');
    config.changes.forEach((elementId, index) => {
      const kind = config.kinds[index];
      if (kinds.includes(kind) && registry.get(elementId)) {
        canvas.addMarker(elementId, CLASSES[kind]);
      }
    });
    container.dataset.marked = '1';
  }

  show('diagram-left', config.left, [ 'removed', 'changed' ]);
  show('diagram-right', config.right, [ 'added', 'changed' ]);
})();
