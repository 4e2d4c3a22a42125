/**
 * Why an attachment upload or download failed, as a closed list the UI can word and the audit can
 * record. Messages never carry a file name, a URL (slot URLs are capabilities) or content.
 */
export const transferFailures = [
  'no-upload-service', // the server announces no XEP-0363 service
  'too-large', // over the server's (or our) size limit
  'quota', // the server's daily or global quota is used up
  'refused', // the server refused the slot or the upload for another reason
  'unreachable', // network or TLS failure, or no answer in time
  'untrusted-certificate', // the file server's certificate is not trusted the way the XMPP server's is
  'not-https', // an address that is not https
  'host-not-allowed', // a download address outside the clinic's servers
  'interrupted', // the connection ended before the whole file had arrived (a drop, or a stored file shorter than announced)
  'gone', // the server no longer has the file (expired or removed)
  'http-status', // any other HTTP answer (redirects included: they are not followed)
  'size-changed', // the file read for upload did not have the size it had when the slot was asked for
  'cancelled', // the person cancelled it (attachments:cancel); nothing partial was kept
] as const;
export type TransferFailure = (typeof transferFailures)[number];

const words: Record<TransferFailure, string> = {
  'no-upload-service': 'the server offers no file upload',
  'too-large': 'the file is larger than the server allows',
  quota: 'the upload quota on the server is used up; try again later',
  refused: 'the server refused the file',
  unreachable: 'the file server could not be reached',
  'untrusted-certificate': "the file server's certificate is not trusted",
  'not-https': 'refused a file address that is not https',
  'host-not-allowed': "refused a file address outside the clinic's servers",
  interrupted: 'the download stopped before the whole file had arrived',
  gone: 'the file is no longer on the server',
  'http-status': 'the file server gave an unexpected answer',
  'size-changed': 'the file changed while it was being sent',
  cancelled: 'cancelled',
};

export class TransferError extends Error {
  override readonly name = 'TransferError';
  constructor(
    readonly reason: TransferFailure,
    detail?: string,
  ) {
    super(detail ? `${words[reason]} (${detail})` : words[reason]);
  }
}
