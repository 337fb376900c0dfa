// How every validator words its problems: the subject's heading, then one problem per line.

/** What a configuration error is about: the validator that found it. */
export type ConfigurationSubject = 'OboModule options' | 'OboModule routes' | 'RedisTokenCache options' | 'BearerStrategy options' | 'InMemoryTokenCache options' | 'startEntraEmulator options' | 'emulator seed';

/** The first line of each subject's message; the routes check reports routes, not options. */
const CONFIGURATION_HEADINGS: Record<ConfigurationSubject, string> = {
  'OboModule options': 'Invalid OboModule options',
  'OboModule routes': 'OboModule found routes it cannot serve safely',
  'RedisTokenCache options': 'Invalid RedisTokenCache options',
  'BearerStrategy options': 'Invalid BearerStrategy options',
  'InMemoryTokenCache options': 'Invalid InMemoryTokenCache options',
  // The test kit's own: its callers get a TypeError (a test set-up mistake, not an HTTP answer), in the same words.
  'startEntraEmulator options': 'startEntraEmulator: invalid options',
  'emulator seed': 'invalid seed',
};

/** A configuration problem list as every validator words it: the subject's heading, then one problem per line. */
export function configurationMessage(problems: readonly string[], subject: ConfigurationSubject): string {
  return `${CONFIGURATION_HEADINGS[subject]}:\n- ${problems.join('\n- ')}`;
}
