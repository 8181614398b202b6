// BPMN editor with the Camunda 7 properties panel and linting: window.TeamflowModeler.
//
// TeamflowModeler.create(canvasEl, panelEl, {xml, lint, locale}) returns the
// bpmn-js Modeler at once; the import runs in the background and its promise
// is kept on modeler.teamflowImport (resolving to {warnings}). When the diagram
// is shown, canvasEl.dataset.ready is "1".

import BpmnModeler from 'bpmn-js/lib/Modeler';
import {
  BpmnPropertiesPanelModule,
  BpmnPropertiesProviderModule,
  CamundaPlatformPropertiesProviderModule
} from 'bpmn-js-properties-panel';
import CamundaBehaviorsModule from 'camunda-bpmn-js-behaviors/lib/camunda-platform';
import camundaModdle from 'camunda-bpmn-moddle/resources/camunda.json';
import lintModule from 'bpmn-js-bpmnlint';
import TokenSimulationModule from 'bpmn-js-token-simulation/lib/modeler';
import bpmnlintConfig from 'bpmnlint-config';

import 'bpmn-js/dist/assets/diagram-js.css';
import 'bpmn-js/dist/assets/bpmn-js.css';
import 'bpmn-js/dist/assets/bpmn-font/css/bpmn.css';
import '@bpmn-io/properties-panel/dist/assets/properties-panel.css';
import 'bpmn-js-bpmnlint/dist/assets/css/bpmn-js-bpmnlint.css';
import 'bpmn-js-token-simulation/assets/css/bpmn-js-token-simulation.css';
import './modeler.css';

import { translateModule } from './lib/translate.js';

const EMPTY_DIAGRAM = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI"
    xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
    id="Definitions_1" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="Process_1" isExecutable="true">
    <bpmn:startEvent id="StartEvent_1" />
  </bpmn:process>
  <bpmndi:BPMNDiagram id="BPMNDiagram_1">
    <bpmndi:BPMNPlane id="BPMNPlane_1" bpmnElement="Process_1">
      <bpmndi:BPMNShape id="StartEvent_1_di" bpmnElement="StartEvent_1">
        <dc:Bounds x="180" y="160" width="36" height="36" />
      </bpmndi:BPMNShape>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>`;

/**
 * Create a modeler in `canvasEl` with its properties panel in `panelEl`.
 *
 * @param {HTMLElement} canvasEl
 * @param {HTMLElement} panelEl
 * @param {{xml?: string, lint?: boolean, locale?: string}} [options]
 * @return {BpmnModeler}
 */
function create(canvasEl, panelEl, options = {}) {
  const { xml, lint = true, locale } = options;

  const additionalModules = [
    BpmnPropertiesPanelModule,
    BpmnPropertiesProviderModule,
    CamundaPlatformPropertiesProviderModule,
    CamundaBehaviorsModule,
    lintModule,
    TokenSimulationModule
  ];
  const translate = translateModule(locale);
  if (translate) {
    additionalModules.push(translate);
  }

  canvasEl.dataset.ready = '0';
  const modeler = new BpmnModeler({
    container: canvasEl,
    propertiesPanel: { parent: panelEl },
    linting: { bpmnlint: bpmnlintConfig, active: Boolean(lint) },
    additionalModules,
    moddleExtensions: { camunda: camundaModdle }
  });

  labelSimulationToggle(canvasEl, modeler.get('translate'));
  modeler.teamflowImport = modeler.importXML(xml || EMPTY_DIAGRAM).then((result) => {
    fitBesidePalette(modeler, canvasEl);
    canvasEl.dataset.ready = '1';
    return { warnings: result.warnings };
  });

  return modeler;
}

/**
 * Fit the whole diagram into the part of the canvas the palette leaves free,
 * so no start event or lane label hides behind the tools.
 */
function fitBesidePalette(modeler, canvasEl) {
  const canvas = modeler.get('canvas');
  canvas.zoom('fit-viewport', 'auto');
  const palette = canvasEl.querySelector('.djs-palette');
  const { inner, outer } = canvas.viewbox();
  if (!palette || !inner.width || !inner.height) {
    return;
  }
  const left = palette.getBoundingClientRect().right - canvasEl.getBoundingClientRect().left + 12;
  const scale = Math.min(1, (outer.width - left - 12) / inner.width, (outer.height - 24) / inner.height);
  if (scale <= 0) {
    return;
  }
  canvas.viewbox({
    x: inner.x - left / scale,
    y: inner.y - (outer.height - inner.height * scale) / 2 / scale,
    width: outer.width / scale,
    height: outer.height / scale
  });
}

/**
 * Translate the token simulation's toggle, whose label the plugin writes as fixed English.
 */
function labelSimulationToggle(canvasEl, translate) {
  const label = translate('Token Simulation');
  const toggle = canvasEl.querySelector('.bts-toggle-mode');
  if (!toggle || label === 'Token Simulation') {
    return;
  }
  const relabel = () => {
    const text = toggle.firstChild;
    if (text && text.nodeType === Node.TEXT_NODE && text.textContent.includes('Token Simulation')) {
      text.textContent = text.textContent.replace('Token Simulation', label);
    }
  };
  relabel();
  new MutationObserver(relabel).observe(toggle, { childList: true });
}

window.TeamflowModeler = { create, EMPTY_DIAGRAM };
