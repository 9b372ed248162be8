/** The part of an Apollo Server response the plugin reads (no import of `@apollo/server`). */
interface ApolloResponse {
  response: {
    body:
      | {
          kind: 'single';
          singleResult: {
            data?: Record<string, unknown> | null;
            errors?: readonly { extensions?: Record<string, unknown> }[];
          };
        }
      | { kind: 'incremental' };
  };
}

/**
 * An Apollo Server plugin that refuses a whole operation when the zero-trust pipeline refused one
 * of its fields: the response keeps every error and its `data` becomes `null`, so nothing is
 * served beside a refused field. Fields decide before they resolve, but the mutation fields before
 * a refused one have run: send one mutation per operation where that matters. @publicApi
 *
 * @example GraphQLModule.forRoot({ driver: ApolloDriver, plugins: [refuseWholeOperation()] })
 */
export function refuseWholeOperation(): {
  requestDidStart(): Promise<{ willSendResponse(context: ApolloResponse): Promise<void> }>;
} {
  const willSendResponse = ({ response: { body } }: ApolloResponse): Promise<void> => {
    const errors = body.kind === 'single' ? body.singleResult.errors : undefined;
    if (body.kind === 'single' && errors?.some((e) => typeof e.extensions?.zt === 'string'))
      body.singleResult.data = null;
    return Promise.resolve();
  };
  return { requestDidStart: () => Promise.resolve({ willSendResponse }) };
}
