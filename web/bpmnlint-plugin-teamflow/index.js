// bpmnlint rules for what the Teamflow engine needs (the same checks the server makes on deploy).
module.exports = {
  configs: {
    recommended: {
      rules: {
        'user-task-group': 'error',
        'user-task-form': 'error',
        'timer-defined': 'error',
        'reserved-ids': 'error',
        'no-service-task': 'error',
        'decision-ref': 'error'
      }
    }
  }
};
