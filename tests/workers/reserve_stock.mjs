// A Camunda external-task worker, written with the published client: reserves stock for orders.
// Usage: node reserve_stock.mjs BASE_URL USER PASSWORD COUNT  (stops after COUNT tasks)
import {
  Client,
  BasicAuthInterceptor,
  Variables,
} from "../../web/node_modules/camunda-external-task-client-js/index.js";

const [baseUrl, username, password, count] = process.argv.slice(2);
let left = Number(count);
const client = new Client({
  baseUrl: `${baseUrl}/engine-rest`,
  workerId: "node-stock-worker",
  interceptors: new BasicAuthInterceptor({ username, password }),
  asyncResponseTimeout: 5000,
  use: () => {},
});

function done(what) {
  console.log(JSON.stringify(what));
  left -= 1;
  if (left <= 0) {
    client.stop();
    process.exit(0);
  }
}

client.on("poll:error", (e) => console.error("poll error", e.message));
client.on("complete:error", (_task, e) => console.error("complete error", e.message));

client.subscribe("reserve-stock", async ({ task, taskService }) => {
  const qty = task.variables.get("qty");
  if (qty > 100) {
    await taskService.handleBpmnError(task, "OUT_OF_STOCK", "not enough stock", new Variables().set("eta", 14));
    done({ id: task.id, error: "OUT_OF_STOCK" });
    return;
  }
  const result = new Variables().set("reserved", qty).set("reservedBy", "node").setTyped("lines", {
    type: "Json",
    value: JSON.stringify([{ sku: task.variables.get("sku"), qty }]),
  });
  await taskService.complete(task, result);
  done({ id: task.id, businessKey: task.businessKey, reserved: qty });
});
