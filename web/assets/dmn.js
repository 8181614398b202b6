// DMN editor (decision tables, DRD, literal expressions): window.TeamflowDmn.
//
// TeamflowDmn.create(el, {xml}) returns the dmn-js Modeler at once; DMN 1.1 and
// 1.2 files (older Camunda Modeler) are migrated to DMN 1.3 first. The import
// promise is kept on modeler.teamflowImport (resolving to {warnings}). When
// the first view is shown, el.dataset.ready is "1".

import { migrateDiagram } from '@bpmn-io/dmn-migrate';
import DmnModeler from 'dmn-js/lib/Modeler';

import 'dmn-js/dist/assets/diagram-js.css';
import 'dmn-js/dist/assets/dmn-js-shared.css';
import 'dmn-js/dist/assets/dmn-js-drd.css';
import 'dmn-js/dist/assets/dmn-js-decision-table.css';
import 'dmn-js/dist/assets/dmn-js-decision-table-controls.css';
import 'dmn-js/dist/assets/dmn-js-literal-expression.css';
import 'dmn-js/dist/assets/dmn-js-boxed-expression.css';
import 'dmn-js/dist/assets/dmn-js-boxed-expression-controls.css';
import 'dmn-js/dist/assets/dmn-font/css/dmn.css';
import './dmn.css';

/**
 * Create a DMN modeler in `el` and import `xml` into it.
 *
 * @param {HTMLElement} el
 * @param {{xml: string}} options
 * @return {DmnModeler}
 */
function create(el, { xml } = {}) {
  el.dataset.ready = '0';
  const modeler = new DmnModeler({ container: el });

  modeler.teamflowImport = migrateDiagram(xml).then((migrated) => modeler.importXML(migrated)).then((result) => {
    el.dataset.ready = '1';
    return { warnings: result.warnings };
  });

  return modeler;
}

window.TeamflowDmn = { create };
