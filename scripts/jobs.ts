/**
 * `npm run jobs`: runs the scheduled function once, now, in a running local twin (`npm start`), through
 * serverless-offline's Lambda Invoke API, and prints what it did. (The schedule runs it every minute anyway.)
 */
export async function main(): Promise<void> {
  const port = Number(process.env.QFDATA_LAMBDA_PORT || Number(process.env.QFDATA_PORT || 8866) + 1);
  const url = `http://127.0.0.1:${port}/2015-03-31/functions/qfdata-local-scheduler/invocations`;
  const response = await fetch(url, { method: 'POST', body: JSON.stringify({ source: 'qfdata.jobs', 'detail-type': 'Scheduled Event' }) }).catch((error: Error) => {
    throw new Error(`could not reach ${url} (is npm start running?): ${error.message}`);
  });
  process.stdout.write(`${await response.text()}\n`);
  if (!response.ok) process.exitCode = 1;
}
