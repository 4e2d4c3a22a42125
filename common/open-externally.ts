/**
 * Which received files "Open in another app" may hand to the system (issue 16 §5). The system
 * picks the app by the name's extension (Windows, macOS) or by sniffing (Linux), and for a
 * program, a script or a shortcut "opening" means running it: a colleague's compromised account
 * must not be able to run code on a clinic workstation with one click. So only documents and
 * pictures open elsewhere, by an allowlist of extensions; anything else can still be saved where
 * the policy allows export ("Save as…"), never opened from here. Office formats that carry macros
 * (.docm, .xlsm, …) are not on the list.
 */
export const OPENS_IN_ANOTHER_APP: readonly string[] = [
  'pdf',
  'png',
  'jpg',
  'jpeg',
  'gif',
  'webp',
  'heic',
  'heif',
  'tif',
  'tiff',
  'bmp',
  'txt',
  'csv',
  'rtf',
  'doc',
  'docx',
  'xls',
  'xlsx',
  'ppt',
  'pptx',
  'odt',
  'ods',
  'odp',
];

const allowed = new Set(OPENS_IN_ANOTHER_APP);

/** Whether a file of this name may be opened in another app: its last extension is on the list. */
export function opensInAnotherApp(name: string): boolean {
  const dot = name.lastIndexOf('.');
  if (dot <= 0 || dot === name.length - 1) return false;
  return allowed.has(name.slice(dot + 1).toLowerCase());
}
