// @llm-router/nestjs/testing: an in-process Transport answering from scripts
// (on any RxJS scheduler, so virtual time works) and a small policy fixture.
export { ScriptedTransport, type ScriptedResponse } from './scripted-transport.js';
export { fixturePolicy, openAiCompletionBody } from './policy.fixture.js';
