const { is } = require('bpmnlint-utils');
const text = require('./text');

// A business rule task evaluates a decision table named by camunda:decisionRef.
module.exports = function() {
  function check(node, reporter) {
    if (is(node, 'bpmn:BusinessRuleTask') && !node.get('camunda:decisionRef')) {
      reporter.report(node.id, text('business rule task has no camunda:decisionRef'));
    }
  }

  return { check };
};
