/**
 * The commonest passwords (compiled from the well-known public breach top lists, e.g. the
 * NCSC "100k-most-used" list and SecLists' top-1000) plus clinic words. Matched
 * case-insensitively, also after stripping digits/symbols around a word ("Password123!").
 */
export const COMMON_PASSWORDS: readonly string[] = [
  // top numeric / keyboard patterns
  '123456', '123456789', '12345678', '12345', '1234567', '1234567890', '123123', '111111', '000000', '654321',
  '666666', '121212', '112233', '123321', '7777777', '555555', '131313', '159753', '987654321', '11111111',
  '1q2w3e4r', '1q2w3e4r5t', '1qaz2wsx', '1qazxsw2', 'qwerty', 'qwertyuiop', 'qwerty123', 'qwer1234', 'qwertz',
  'azerty', 'asdfgh', 'asdfghjkl', 'asdf1234', 'zxcvbn', 'zxcvbnm', 'qazwsx', 'qazwsxedc', '123qwe', 'qwe123',
  'abc123', 'abcd1234', 'abcdef', 'abcdefg', 'abcdefgh', 'a1b2c3', 'a1b2c3d4', 'aaaaaa', 'zaq12wsx', '1a2b3c',
  '147258369', '123654', '102030', '101010', '789456', '789456123', '456789', '147258', '741852963', '9876543210',
  // words
  'password', 'passw0rd', 'p@ssw0rd', 'p@ssword', 'pass', 'passwort', 'motdepasse', 'contraseña', 'senha', 'parola',
  'letmein', 'welcome', 'iloveyou', 'admin', 'administrator', 'root', 'login', 'guest', 'user', 'test',
  'secret', 'changeme', 'default', 'master', 'access', 'trustno1', 'whatever', 'nothing', 'unknown', 'hello',
  'monkey', 'dragon', 'shadow', 'sunshine', 'princess', 'football', 'baseball', 'soccer', 'hockey', 'basketball',
  'superman', 'batman', 'spiderman', 'starwars', 'pokemon', 'naruto', 'matrix', 'hunter', 'killer', 'ranger',
  'mustang', 'harley', 'ferrari', 'porsche', 'corvette', 'mercedes', 'yamaha', 'buster', 'tigger', 'pepper',
  'ginger', 'cookie', 'cheese', 'chocolate', 'banana', 'orange', 'summer', 'winter', 'spring', 'autumn',
  'freedom', 'liberty', 'america', 'canada', 'london', 'hello123', 'flower', 'lovely', 'loveme', 'lover',
  'love', 'angel', 'angels', 'baby', 'babygirl', 'sweety', 'sweetheart', 'beautiful', 'friends', 'family',
  'jesus', 'god', 'christ', 'blessed', 'faith', 'heaven', 'charlie', 'michael', 'jennifer', 'jordan',
  'michelle', 'jessica', 'ashley', 'nicole', 'daniel', 'andrew', 'joshua', 'matthew', 'thomas', 'robert',
  'george', 'william', 'anthony', 'jason', 'justin', 'taylor', 'amanda', 'hannah', 'samantha', 'elizabeth',
  'maggie', 'bailey', 'buddy', 'max', 'lucky', 'rocky', 'coffee', 'computer', 'internet', 'google',
  'samsung', 'apple', 'microsoft', 'windows', 'linux', 'mypass', 'mypassword', 'yourpassword', 'newpassword', 'oldpassword',
  'thunder', 'dallas', 'austin', 'yankees', 'chelsea', 'liverpool', 'arsenal', 'barcelona', 'madrid', 'juventus',
  'biteme', 'fuckyou', 'asshole', 'bitch', 'sexy', 'hottie', 'killer1', 'silver', 'golden', 'diamond',
  'purple', 'yellow', 'green', 'blue', 'black', 'white', 'red', 'pink', 'tiger', 'lion',
  'eagle', 'falcon', 'phoenix', 'wolf', 'bear', 'dolphin', 'horse', 'kitten', 'puppy', 'snoopy',
  'zxcvbnm123', 'qwerty12345', 'password12', 'welcome1', 'letmein1', 'trustme', 'iloveu', 'forever', 'together', 'secure',
  'security', 'private', 'money', 'dollar', 'cash', 'success', 'winner', 'victory', 'champion', 'legend',
  'hello world', 'helloworld', 'opensesame', 'open sesame', 'correct horse battery staple', 'correcthorsebatterystaple', 'letmeinnow', 'ilovemyself', 'iloveyou2', 'happiness',
  // clinic and workplace words people reach for
  'clinic', 'hospital', 'health', 'healthcare', 'medical', 'medicine', 'doctor', 'nurse', 'nursing', 'patient',
  'patients', 'reception', 'receptionist', 'physician', 'surgery', 'pharmacy', 'dental', 'dentist', 'practice', 'office',
  'welcome to clinic', 'clinicmessenger', 'clinic messenger', 'messenger', 'message', 'messages', 'hipaa', 'compliance', 'staff', 'team',
  'company', 'work', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'january', 'february', 'march',
  'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december', 'season',
  // long phrases that still top breach lists
  'iloveyouforever', 'ilovemyfamily', 'ilovemymom', 'ilovemydog', 'thisismypassword', 'mypasswordis', 'passwordpassword', 'qwertyqwerty', 'asdfasdf', 'asdfasdfasdf',
  'letmeinplease', 'welcomewelcome', 'abcabcabc', 'abc123abc123', 'password123456', 'qwertyuiopasdfghjkl', 'zaq1xsw2cde3', '1qaz2wsx3edc', '1q2w3e4r5t6y', 'q1w2e3r4t5y6',
];
