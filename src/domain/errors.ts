/** One field-level problem, reported in problem+json `errors`. */
export interface FieldProblem {
  field: string;
  reason: string;
}

/** What a `notFound` error names: `Contact` gives the code `ContactNotFound`. */
export type NotFoundSubject = 'Campaign' | 'ConsentWording' | 'Contact' | 'Form' | 'Group' | 'Import' | 'InjectionRule' | 'Key' | 'Link' | 'Message' | 'Project' | 'ScoreModel' | 'Sending' | 'User' | 'Webhook';

/**
 * The catalogue of error codes: every failure a rule or a service reports is
 * one of these. The HTTP face of each (its status) lives in `http/problem.ts`
 * alone; the domain only says what went wrong.
 */
export type ErrorCode =
  | `${NotFoundSubject}NotFound`
  // Bad input (the request names something that cannot be read or is not allowed)
  | 'InvalidInput'
  | 'InvalidRecord'
  | 'InvalidEvent'
  | 'InvalidMessage'
  | 'InvalidCampaign'
  | 'InvalidCriteria'
  | 'InvalidScoreRules'
  | 'InvalidInjectionRule'
  | 'InvalidConsentValue'
  | 'InvalidConsentDate'
  | 'FutureConsentDate'
  | 'TemplateError'
  | 'EmptyImport'
  | 'GroupNotStatic'
  // Who may do it
  | 'Unauthorized'
  | 'InvalidCredentials'
  | 'NoSession'
  | 'SessionEnded'
  | 'Forbidden'
  | 'CsrfTokenInvalid'
  | 'CrossOriginSignIn'
  | 'TooManySignInAttempts'
  // The state of the thing forbids it now
  | 'CampaignNotDraft'
  | 'CampaignRunning'
  | 'CampaignNotStartable'
  | 'CampaignNotRunning'
  | 'CampaignEntryNotApi'
  | 'ScoreModelInUse'
  | 'MessageAlreadySent'
  | 'MessageInUse'
  | 'SendingStarted'
  | 'UserExists'
  | 'LastOwner';

/**
 * A failure with a stable `code` from the catalogue; the HTTP error handler
 * maps the code to a status and problem+json (type = code), the CLI prints
 * the message.
 *
 * @example throw new AppError('ContactNotFound', 'No contact 42 in this project')
 */
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly errors: FieldProblem[] = [],
  ) {
    super(message);
    this.name = code;
  }
}

/** @example notFound('Contact', 42) // AppError ContactNotFound: 'Contact 42 not found' */
export const notFound = (what: NotFoundSubject, id?: string | number): AppError =>
  new AppError(`${what}NotFound`, id === undefined ? `${what} not found` : `${what} ${id} not found`);

/** @example badInput('limit', 'must be 1 to 1000') // AppError InvalidInput naming the field */
export const badInput = (field: string, reason: string, code: ErrorCode = 'InvalidInput'): AppError =>
  new AppError(code, `${field}: ${reason}`, [{ field, reason }]);
