const text = require('./text');

// SpiffWorkflow names its own task specs Start and End; an element with such an id breaks the process.
module.exports = function() {
  function check(node, reporter) {
    if (node.id === 'Start' || node.id === 'End') {
      reporter.report(node.id, text('the ids Start and End are reserved by the engine'));
    }
  }

  return { check };
};
