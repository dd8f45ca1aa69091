// Every rule of `npm run spec:lint`, with the document it enforces: title and the quoted sentence.
// A rule whose ground is not written down by Salesforce or Heroku says so (`inferred`) and is a
// warning; only what Salesforce documents as rejected, or what breaks a consumer, is an error.

export interface RuleSource {
  title: string
  quote: string
  /** Set when no document states the rule: what it was inferred from. */
  inferred?: string
}

export interface Rule {
  severity: 'error' | 'warning'
  source: RuleSource
}

const OPENAPI_303 = 'OpenAPI Specification 3.0.3'
const HEROKU_OPENAPI = 'Heroku Dev Center, "Configuring OpenAPI Specification for Heroku AppLink"'
const SCHEMA_DEFINITIONS = 'Salesforce Help, "Schema Definitions" (External Services)'
const CALLBACK_LIMITS = 'Salesforce Help, "Callouts and Callbacks: Limits and Usage"'
const TOPIC_ENABLEMENT = 'MuleSoft ruleset "SF API Topic and Action Enablement" (referenced by the Heroku document above)'
const USER_MODES = 'Heroku Dev Center, "Heroku AppLink User Mode Options"'
const APEX_ONLY = 'External Services\' asynchronous callback operations are supported in Apex but not in Flow.'
const AGENT_FLAG = 'Required if publishAsAgentAction is enabled.'
const RENAMES = 'inferred from the names External Services generated for reserved words and underscores ' +
  '(`type` became `z0type`, `_` became `x5f`), as recorded in issue 13; the mapping is not documented'

export const RULES = {
  'openapi-version': {
    severity: 'error',
    source: {
      title: 'Salesforce Developers, "Verify Metadata and OpenAPI Specification Documents" (Agentforce)',
      quote: 'openapi | Set the OpenAPI Specification version 3.0.0.'
    }
  },
  'openapi-valid': {
    severity: 'error',
    source: { title: OPENAPI_303, quote: 'An OpenAPI document that conforms to the OpenAPI Specification is itself a JSON object' }
  },
  'operation-id-missing': {
    severity: 'warning',
    source: {
      title: OPENAPI_303,
      quote: 'operationId | Unique string used to identify the operation.',
      inferred: 'External Services names an operation without operationId itself; the derived Apex method and ' +
        'Flow action name then change whenever the path does'
    }
  },
  'operation-id-duplicate': {
    severity: 'error',
    source: { title: OPENAPI_303, quote: 'The id MUST be unique among all operations described in the API.' }
  },
  'name-renamed': {
    severity: 'warning',
    source: {
      title: 'Apex Developer Guide, "Reserved Keywords"',
      quote: 'The following words can only be used as keywords.',
      inferred: RENAMES
    }
  },
  'response-headers': {
    severity: 'error',
    source: { title: SCHEMA_DEFINITIONS, quote: 'Response headers aren’t supported.' }
  },
  'cookie-parameter': {
    severity: 'warning',
    source: {
      title: SCHEMA_DEFINITIONS,
      quote: 'Request headers are supported. ... Form parameters are supported.',
      inferred: 'cookie parameters are not among the parameter kinds the page lists as supported'
    }
  },
  'schema-not': {
    severity: 'warning',
    source: {
      title: SCHEMA_DEFINITIONS,
      quote: 'allOf as an object composition ... anyOf ... oneOf',
      inferred: '`not` is not among the supported constructs the page lists'
    }
  },
  'schema-untyped': {
    severity: 'error',
    source: { title: SCHEMA_DEFINITIONS, quote: 'any type (as Apex Object)' }
  },
  'flow-nested-array': {
    severity: 'warning',
    source: {
      title: SCHEMA_DEFINITIONS,
      quote: 'Nested anonymous arrays generate a List<List<T>> Apex type, which isn\'t supported as a field on an ' +
        'Apex-defined variable in Flow.'
    }
  },
  'flow-map': {
    severity: 'warning',
    source: {
      title: 'Salesforce Help, "Structure Data Using properties and additionalProperties"',
      quote: 'OpenAPI additionalProperties are grouped as the Apex property with name properties and type ' +
        'Map<String, Type>',
      inferred: 'Flow variables of an Apex-defined type hold primitives, lists and Apex-defined types, not maps ' +
        '("Considerations for the Apex-Defined Data Type")'
    }
  },
  'callbacks-apex-only': {
    severity: 'warning',
    source: { title: CALLBACK_LIMITS, quote: APEX_ONLY }
  },
  'get-request-body': {
    severity: 'error',
    source: { title: SCHEMA_DEFINITIONS, quote: 'A GET method with an empty request body results in a validation error.' }
  },
  'description-too-long': {
    severity: 'warning',
    source: {
      title: 'docs/publishing.md (limits observed when registering External Services)',
      quote: 'descriptions are cut at 1,333 characters',
      inferred: 'Salesforce truncates longer descriptions instead of refusing the spec'
    }
  },
  'document-too-large': {
    severity: 'error',
    source: {
      title: 'docs/publishing.md (limits observed when registering External Services)',
      quote: 'schema ≤ 3,000,000 characters as YAML',
      inferred: 'a larger schema is refused at registration'
    }
  },
  'success-response-missing': {
    severity: 'warning',
    source: {
      title: 'Salesforce Help, "External Services OpenAPI 2.0 Schema"',
      quote: 'Parameters and responses translate to inputs and outputs, respectively, for your flow actions.',
      inferred: 'without a 2xx response the action has only the default output'
    }
  },
  'agent-topic-missing': {
    severity: 'warning',
    source: { title: HEROKU_OPENAPI, quote: 'To enable topics for an action, you must define the topic with the following annotations.' }
  },
  'agent-topic-name': {
    severity: 'warning',
    source: {
      title: HEROKU_OPENAPI,
      quote: 'It’s recommended to use snake case, starting with a letter, and containing alphanumeric characters, ' +
        'spaces, and underscores.'
    }
  },
  'agent-topic-field-missing': {
    severity: 'error',
    source: { title: HEROKU_OPENAPI, quote: 'x-sfdc/agent/topic/classificationDescription | Required.' }
  },
  'agent-topic-without-action': {
    severity: 'error',
    source: { title: HEROKU_OPENAPI, quote: 'If you have one topic defined, you must have at least one action defined as well.' }
  },
  'agent-action-user-input': {
    severity: 'error',
    source: { title: HEROKU_OPENAPI, quote: `x-sfdc/agent/action/isUserInput | ${AGENT_FLAG}` }
  },
  'agent-action-displayable': {
    severity: 'error',
    source: { title: HEROKU_OPENAPI, quote: `x-sfdc/agent/action/isDisplayable | ${AGENT_FLAG}` }
  },
  'agent-action-inline-schema': {
    severity: 'error',
    source: {
      title: `${OPENAPI_303}, Reference Object`,
      quote: 'This object cannot be extended with additional properties and any properties added SHALL be ignored.'
    }
  },
  'agent-flag-placement': {
    severity: 'error',
    source: {
      title: HEROKU_OPENAPI,
      quote: 'isUserInput ... true surfaces the field for further user input. ... isDisplayable ... true makes the ' +
        'field displayable to the user.',
      inferred: 'the flags describe fields: isUserInput the request body\'s, isDisplayable the response\'s; ' +
        'publishAsAgentAction the operation'
    }
  },
  'agent-pii-placement': {
    severity: 'error',
    source: { title: HEROKU_OPENAPI, quote: 'x-sfdc/privacy/isPii | Optional. If publishAsAgentAction is enabled, and this attribute is true' }
  },
  'agent-action-media-type': {
    severity: 'warning',
    source: {
      title: TOPIC_ENABLEMENT,
      quote: 'content: application/json: schema: type: object',
      inferred: 'every example of the ruleset exchanges application/json; other media types give the agent no fields'
    }
  },
  'agent-action-success-responses': {
    severity: 'warning',
    source: {
      title: `${TOPIC_ENABLEMENT}, operation-only-one-response-code`,
      quote: 'For API operations enabled as agent actions only the lowest 2xx response will be used, any other ' +
        'response code will be ignored.'
    }
  },
  'agent-action-callbacks': {
    severity: 'error',
    source: {
      title: CALLBACK_LIMITS,
      quote: APEX_ONLY,
      inferred: 'an agent runs an action outside Apex, so it cannot wait for the callback either'
    }
  },
  'agent-action-description': {
    severity: 'warning',
    source: {
      title: HEROKU_OPENAPI,
      quote: 'x-sfdc/agent/topic/instructions | Required. Sets the guidelines that tell your agent how to handle ' +
        'conversations in the context of the topic.',
      inferred: 'the agent picks among a topic\'s actions by their descriptions'
    }
  },
  'authorization-permission-set': {
    severity: 'error',
    source: {
      title: USER_MODES,
      quote: 'You can define the permission set to use for additional permissions through the OpenAPI specification ' +
        'when publishing your app.'
    }
  },
  'authorization-permission-set-session': {
    severity: 'error',
    source: {
      title: USER_MODES,
      quote: 'In user-plus mode, the developer and admin can define and grant an additional session-based permission set.'
    }
  },
  'authorization-external-client-app': {
    severity: 'error',
    source: {
      title: 'Heroku Dev Center, "Heroku AppLink and External Client Apps"',
      quote: 'API Name: this field must match the externalClientApp reference in your API spec file.'
    }
  },
  'authorization-connected-app': {
    severity: 'error',
    source: {
      title: 'Heroku Dev Center, "Heroku AppLink and External Client Apps"',
      quote: 'If you have existing connected apps in your Salesforce org, you can still reference them in the API spec file'
    }
  },
} as const satisfies Record<string, Rule>

export type RuleId = keyof typeof RULES
