import type { ProjectScreen } from '../shell/screens';

/** Dashboard, messages, sendings, injection rules, forms, groups, scores and campaigns (issue 11, SPEC §13). */
export const MARKETING_SCREENS: ProjectScreen[] = [
  { path: 'dashboard', nav: 'mnav.dashboard', load: () => import('./dashboard/dashboard-page') },
  { path: 'messages', nav: 'mnav.messages', load: () => import('./messages/messages-page') },
  { path: 'messages/new', load: () => import('./messages/message-page') },
  { path: 'messages/:mid', load: () => import('./messages/message-page') },
  { path: 'sendings', nav: 'mnav.sendings', load: () => import('./sendings/sendings-page') },
  { path: 'sendings/:sid', load: () => import('./sendings/sending-page') },
  { path: 'groups', nav: 'mnav.groups', load: () => import('./groups/groups-page') },
  { path: 'groups/new', load: () => import('./groups/group-page') },
  { path: 'groups/:gid', load: () => import('./groups/group-page') },
  { path: 'campaigns', nav: 'mnav.campaigns', load: () => import('./campaigns/campaigns-page') },
  { path: 'campaigns/new', load: () => import('./campaigns/campaign-page') },
  { path: 'campaigns/:id', load: () => import('./campaigns/campaign-page') },
  { path: 'score-models', nav: 'mnav.scoreModels', load: () => import('./score-models/score-models-page') },
  { path: 'score-models/new', load: () => import('./score-models/score-model-page') },
  { path: 'score-models/:mid', load: () => import('./score-models/score-model-page') },
  { path: 'injection-rules', nav: 'mnav.injectionRules', load: () => import('./injection-rules/injection-rules-page') },
  { path: 'injection-rules/new', load: () => import('./injection-rules/injection-rules-page') },
  { path: 'injection-rules/:rid', load: () => import('./injection-rules/injection-rules-page') },
  { path: 'forms', nav: 'mnav.forms', load: () => import('./forms/forms-page') },
  { path: 'forms/new', load: () => import('./forms/form-page') },
  { path: 'forms/:fid', load: () => import('./forms/form-page') },
];
