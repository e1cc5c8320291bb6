"""Development tools, installed only under DEBUG (`make run`): the demo stack (devstack), the demo admin
(demo_setup), the sandbox server command (runsandbox), the demo webhook receiver (runreceiver) and the
sandbox agency's connection. Product code never imports this package; see docs/architecture.md."""
