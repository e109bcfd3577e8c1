// The sample service deployed by the example pipeline: answers every request with its own version.
const http = require('node:http');

const version = process.env.APP_VERSION || 'dev';
http
  .createServer((request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ service: 'signed-service', version, path: request.url }));
  })
  .listen(8080, () => console.log('listening on 8080'));
