const { is } = require('bpmnlint-utils');
const text = require('./text');

// Teamflow calls no services itself: a service task must be an external task (camunda:type="external" with a
// topic) that an outside worker fetches over /engine-rest.
module.exports = function() {
  function check(node, reporter) {
    if (!is(node, 'bpmn:ServiceTask')) {
      return;
    }
    if (node.get('camunda:type') === 'external' && node.get('camunda:topic')) {
      return;
    }
    reporter.report(node.id, text('service tasks must be external tasks (camunda:type "external" with a topic)'));
  }

  return { check };
};
