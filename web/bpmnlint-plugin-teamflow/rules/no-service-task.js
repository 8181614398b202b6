const { is } = require('bpmnlint-utils');
const text = require('./text');

// Teamflow does not call external services.
module.exports = function() {
  function check(node, reporter) {
    if (is(node, 'bpmn:ServiceTask')) {
      reporter.report(node.id, text('service tasks are not supported; use a script task or a user task'));
    }
  }

  return { check };
};
