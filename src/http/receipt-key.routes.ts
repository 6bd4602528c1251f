import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../context.js';
import { RECEIPT_KEY_PATH } from '../services/receipts.service.js';

const PublicKey = Type.Object({
  kty: Type.Literal('OKP'),
  crv: Type.Literal('Ed25519'),
  x: Type.String(),
  kid: Type.String({ description: 'RFC 7638 thumbprint; receipts name it in signature.keyId' }),
  alg: Type.Literal('EdDSA'),
  use: Type.Literal('sig'),
});

/** `GET /.well-known/trackguard-receipt-key`: the public JWK that verifies consent receipts (SPEC §14). */
export function receiptKeyRoute(app: FastifyInstance, ctx: AppContext): void {
  app.withTypeProvider<TypeBoxTypeProvider>().get(RECEIPT_KEY_PATH, { schema: { hide: true, response: { 200: PublicKey } } }, async (_request, reply) => {
    reply.header('Access-Control-Allow-Origin', '*').header('Cache-Control', 'public, max-age=3600');
    return ctx.receipts.publicKey();
  });
}
