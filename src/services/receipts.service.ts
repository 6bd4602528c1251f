import { createCipheriv, createDecipheriv, createPrivateKey, createPublicKey, generateKeyPairSync, hkdfSync, type KeyObject, randomBytes } from 'node:crypto';
import { AppError } from '../domain/errors.js';
import { jwkThumbprint, parseReceipt, type Receipt, receiptBody, receiptLedgerMismatch, receiptSignatureValid, renderReceipt, signReceipt } from '../domain/receipt.js';
import { type ReceiptLink, signReceiptLink, verifyReceiptLink } from '../domain/signed-link.js';
import { historyEntryAt, ledgerHead } from '../store/consent-history.js';
import { getContact } from '../store/contacts.js';
import type { Db } from '../store/database.js';
import { getMeta, insertMetaIfAbsent } from '../store/meta.js';
import { getProject } from '../store/projects.js';
import { subjectHash } from '../domain/ledger.js';
import { verifyProjectLedger } from './ledger.service.js';

/** The `meta` key of the receipt signing key. */
export const RECEIPT_KEY_META = 'receipt-signing-key';
/** Where the public key is published. */
export const RECEIPT_KEY_PATH = '/.well-known/trackguard-receipt-key';
/** How long a receipt download link works: the confirmation page is read now, not next year. */
export const RECEIPT_LINK_TTL_MS = 7 * 24 * 3_600_000;

export interface PublicReceiptKey {
  kty: 'OKP';
  crv: 'Ed25519';
  x: string;
  kid: string;
  alg: 'EdDSA';
  use: 'sig';
}

/** As stored in `meta`: the public JWK in clear, the private key sealed with a key derived from the token secret. */
interface StoredKey {
  publicJwk: PublicReceiptKey;
  sealed: { iv: string; tag: string; data: string };
}

export type ReceiptVerdict = { ok: true; receipt: Receipt } | { ok: false; reason: string };

const wrappingKey = (secret: string, kid: string): Buffer => Buffer.from(hkdfSync('sha256', secret, 'trackguard receipt signing key', kid, 32));

/**
 * Consent receipts: the installation's Ed25519 key, receipts for history
 * entries, their download links and their verification.
 *
 * The key lives in the database (`meta`), not the data dir: every process and
 * node of an installation shares the database, so they all sign with the one
 * published key, and a backup of the database carries it. Its private half is
 * sealed (AES-256-GCM) with a key derived from the token secret (HKDF), which
 * each node already has in its data dir or TRACKGUARD_SECRET: a database dump
 * alone cannot sign receipts. The first process that needs it creates it;
 * concurrent creators agree through insert-if-absent.
 */
export class ReceiptService {
  private key: { privateKey: KeyObject; publicKey: KeyObject; jwk: PublicReceiptKey } | undefined;

  constructor(
    private readonly db: Db,
    private readonly config: { secrets: string[]; publicUrl: string },
  ) {}

  /** The public key, as published at {@link RECEIPT_KEY_PATH}. */
  async publicKey(): Promise<PublicReceiptKey> {
    return (await this.signingKey()).jwk;
  }

  private async signingKey(): Promise<{ privateKey: KeyObject; publicKey: KeyObject; jwk: PublicReceiptKey }> {
    if (this.key) return this.key;
    let stored = await getMeta(this.db, RECEIPT_KEY_META);
    if (stored === undefined) {
      await insertMetaIfAbsent(this.db, RECEIPT_KEY_META, JSON.stringify(this.newKey()));
      stored = (await getMeta(this.db, RECEIPT_KEY_META))!;
    }
    const { publicJwk, sealed } = JSON.parse(stored) as StoredKey;
    for (const secret of this.config.secrets) {
      try {
        const decipher = createDecipheriv('aes-256-gcm', wrappingKey(secret, publicJwk.kid), Buffer.from(sealed.iv, 'base64url'));
        decipher.setAuthTag(Buffer.from(sealed.tag, 'base64url'));
        const der = Buffer.concat([decipher.update(Buffer.from(sealed.data, 'base64url')), decipher.final()]);
        const privateKey = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
        this.key = { privateKey, publicKey: createPublicKey(privateKey), jwk: publicJwk };
        return this.key;
      } catch {
        // Sealed under another secret: try the next one (rotation).
      }
    }
    throw new Error('the receipt signing key cannot be opened with any configured token secret (TRACKGUARD_SECRET or DATA_DIR/secret changed?)');
  }

  private newKey(): StoredKey {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const jwk = publicKey.export({ format: 'jwk' }) as { crv: string; kty: string; x: string };
    const publicJwk: PublicReceiptKey = { kty: 'OKP', crv: 'Ed25519', x: jwk.x, kid: jwkThumbprint(jwk), alg: 'EdDSA', use: 'sig' };
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', wrappingKey(this.config.secrets[0]!, publicJwk.kid), iv);
    const data = Buffer.concat([cipher.update(privateKey.export({ format: 'der', type: 'pkcs8' })), cipher.final()]);
    return { publicJwk, sealed: { iv: iv.toString('base64url'), tag: cipher.getAuthTag().toString('base64url'), data: data.toString('base64url') } };
  }

  /** The download path of the receipt of one contact's entry, valid for {@link RECEIPT_LINK_TTL_MS}. */
  linkPath(projectId: number, contactId: number, seq: number, now: number): string {
    const expiresAt = Math.floor((now + RECEIPT_LINK_TTL_MS) / 1000) * 1000;
    return `/f/receipt/${signReceiptLink(this.config.secrets, { projectId, contactId, seq, expiresAt })}`;
  }

  /**
   * The receipt file behind a download link: built from the entry and signed
   * now (Ed25519 is deterministic, so the same entry always gives the same
   * bytes). The email shown is the contact's, only while it is the one the
   * entry's subject hash was made from. A forged or expired link, another
   * contact's entry or an erased one → LinkNotFound.
   */
  async download(token: string, now: number): Promise<{ file: string; seq: number }> {
    const link = verifyReceiptLink(this.config.secrets, token, now);
    if (!link) throw new AppError('LinkNotFound', 'This link is not valid');
    return { file: renderReceipt(await this.issue(link)), seq: link.seq };
  }

  private async issue(link: ReceiptLink): Promise<Receipt> {
    const invalid = () => new AppError('LinkNotFound', 'This link is not valid');
    const project = await getProject(this.db, link.projectId);
    const { entry } = await historyEntryAt(this.db, link.projectId, link.seq);
    if (!project || !entry || entry.erased || entry.contactId !== link.contactId) throw invalid();
    const contact = await getContact(this.db, link.projectId, link.contactId);
    if (!contact) throw invalid();
    const email = contact.email !== null && subjectHash(project.ledgerSalt, contact.email) === entry.subjectHash ? contact.email : null;
    const controller = { name: project.settings.branding.name ?? project.name, contact: project.settings.branding.contact ?? null };
    const { privateKey, jwk } = await this.signingKey();
    return signReceipt(receiptBody({ controller, email, entry }), privateKey, jwk.kid, `${this.config.publicUrl}${RECEIPT_KEY_PATH}`);
  }

  /**
   * `trackguard receipt verify`: the file byte for byte as issued, signed by
   * this installation's key (or `publicKey`, a published JWK), and its entry
   * still in the ledger, intact, at its chain position, not erased.
   */
  async verify(text: string, publicKey?: PublicReceiptKey): Promise<ReceiptVerdict> {
    const parsed = parseReceipt(text);
    if ('reason' in parsed) return { ok: false, reason: parsed.reason };
    const { receipt } = parsed;
    const jwk = publicKey ?? (await this.storedPublicKey());
    if (!jwk) return { ok: false, reason: 'this installation has no receipt key: the receipt was not issued here' };
    if (receipt.signature.keyId !== jwk.kid) return { ok: false, reason: `signed by another key (key id ${receipt.signature.keyId}, expected ${jwk.kid})` };
    if (!receiptSignatureValid(receipt, createPublicKey({ key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x }, format: 'jwk' }))) {
      return { ok: false, reason: 'the signature does not match: the receipt was altered or signed by another key' };
    }
    const { projectId, position } = receipt.receipt.ledger;
    const project = await getProject(this.db, projectId);
    const head = await ledgerHead(this.db, projectId);
    const { entry, previousHash } = await historyEntryAt(this.db, projectId, position);
    const mismatch = receiptLedgerMismatch(receipt.receipt, { entry, previousHash, headSeq: head?.seq ?? null, salt: project?.ledgerSalt ?? null });
    if (mismatch) return { ok: false, reason: mismatch };
    // The chain up to the entry must hold too: an entry before it rewritten would make its position meaningless.
    const chain = await verifyProjectLedger(this.db, projectId);
    if (chain.broken && chain.broken.seq <= position) return { ok: false, reason: `the ledger is broken at chain position ${chain.broken.seq}, before this entry: ${chain.broken.reason}` };
    return { ok: true, receipt };
  }

  /** The public key as stored, without opening the private one (the CLI may not have the token secret). */
  private async storedPublicKey(): Promise<PublicReceiptKey | undefined> {
    const stored = await getMeta(this.db, RECEIPT_KEY_META);
    return stored === undefined ? undefined : (JSON.parse(stored) as StoredKey).publicJwk;
  }
}
