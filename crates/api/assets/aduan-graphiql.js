// Starts GraphiQL against the endpoint that served the page (wherever a proxy
// mounts it): queries and mutations over HTTP, subscriptions over
// graphql-transport-ws on the same path. The Headers editor's JSON goes with
// both: as HTTP headers, and (GraphiQL's fetcher merges them into
// connectionParams) as the connection_init payload, where the server reads
// {"Authorization": "Bearer ..."}. Headers are not persisted: tokens stay out
// of localStorage.
(function () {
  'use strict';
  var endpoint = new URL(window.location.pathname, window.location.href);
  var subscriptions = new URL(endpoint.href);
  subscriptions.protocol = endpoint.protocol === 'https:' ? 'wss:' : 'ws:';
  var fetcher = GraphiQL.createFetcher({
    url: endpoint.href,
    subscriptionUrl: subscriptions.href,
  });
  var defaultQuery = [
    '# Most operations need a token: put',
    '#   {"Authorization": "Bearer <token>"}',
    '# in Headers below (subscriptions send it too).',
    '# On a development server, this prints one:',
    '#   aduan token --role AGENT --sub you',
    '',
    '{',
    '  opds {',
    '    code',
    '    name',
    '  }',
    '}',
    '',
  ].join('\n');
  ReactDOM.createRoot(document.getElementById('graphiql')).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: defaultQuery,
      defaultEditorToolsVisibility: 'headers',
    })
  );
})();
