const { is } = require('bpmnlint-utils');
const text = require('./text');

// Every user task carries a generated form (camunda:formData) with at least one field.
module.exports = function() {
  function check(node, reporter) {
    if (!is(node, 'bpmn:UserTask')) {
      return;
    }
    const values = (node.extensionElements && node.extensionElements.values) || [];
    const form = values.find((value) => is(value, 'camunda:FormData'));
    if (!form || !(form.fields || []).length) {
      reporter.report(node.id, text('has no form fields (camunda:formData)'));
    }
  }

  return { check };
};
