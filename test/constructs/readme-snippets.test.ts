import * as fs from 'fs';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import * as ts from 'typescript';
import * as library from '../../src';

const ROOT = path.join(__dirname, '..', '..');
const PACKAGE_NAME = 'cdk-signed-image-pipeline';
const CONSTRUCTS = ['NotationSigningProfile', 'TrustPolicy', 'ImageSigner', 'ImageVerifier', 'EcsSignatureEnforcement', 'SignedImagePipeline'];

interface Snippet {
  /** The `###` subsection the snippet is in. */
  readonly construct: string;
  readonly code: string;
  /** A file name for the compiler, next to this test (so that node_modules resolves as for the tests). */
  readonly fileName: string;
}

/** Every ```ts block of README.md's "## Constructs" section, with the subsection it belongs to. */
function constructSnippets(): Snippet[] {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('\n## Constructs\n');
  expect(start).toBeGreaterThanOrEqual(0);
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  const snippets: Snippet[] = [];
  let construct = '';
  for (const match of section.matchAll(/^### (.+)$|^```ts\n([\s\S]*?)^```$/gm)) {
    if (match[1] !== undefined) {
      construct = match[1].trim();
      continue;
    }
    snippets.push({ construct, code: match[2], fileName: path.join(__dirname, `readme-snippet-${snippets.length + 1}.ts`) });
  }
  return snippets;
}

const snippets = constructSnippets();

/** Type-checks the snippets with the project's strictness, `cdk-signed-image-pipeline` mapped to src/. */
function typeCheck(all: Snippet[]): string[] {
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.CommonJS,
    moduleResolution: ts.ModuleResolutionKind.Node10,
    lib: ['lib.es2022.d.ts'],
    types: ['node'],
    strict: true,
    noImplicitAny: true,
    noImplicitReturns: true,
    noFallthroughCasesInSwitch: true,
    esModuleInterop: true,
    skipLibCheck: true,
    noEmit: true,
    baseUrl: ROOT,
    paths: {
      [PACKAGE_NAME]: ['src/index.ts'],
      // The package root re-exports core and every service module as a namespace; named imports come from core
      // alone, so resolving it to core keeps the program to the modules in use (seconds instead of a minute).
      'aws-cdk-lib': ['node_modules/aws-cdk-lib/core/index.d.ts'],
    },
  };
  const sources = new Map(all.map((snippet) => [snippet.fileName, snippet.code]));
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (fileName, languageVersion, ...rest) => {
    const text = sources.get(path.resolve(fileName));
    return text !== undefined ? ts.createSourceFile(fileName, text, languageVersion, true) : getSourceFile(fileName, languageVersion, ...rest);
  };
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (fileName) => sources.has(path.resolve(fileName)) || fileExists(fileName);
  const program = ts.createProgram([...sources.keys()], options, host);
  return ts
    .getPreEmitDiagnostics(program)
    .filter((diagnostic) => diagnostic.file === undefined || sources.has(path.resolve(diagnostic.file.fileName)))
    .map((diagnostic) => {
      const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
      if (!diagnostic.file || diagnostic.start === undefined) return message;
      const { line, character } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start);
      return `${path.basename(diagnostic.file.fileName)}:${line + 1}:${character + 1} ${message}`;
    });
}

/** Runs a snippet (transpiled to CommonJS, the package name bound to src/) and returns the `app` it defines. */
function run(snippet: Snippet): App {
  const { outputText } = ts.transpileModule(snippet.code, {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
    fileName: snippet.fileName,
  });
  // The snippet's own imports (aws-cdk-lib modules) are resolved at run time, as in a consumer's app.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const load = (id: string): unknown => (id === PACKAGE_NAME ? library : require(id));
  const module = { exports: {} };
  const body = new Function('require', 'module', 'exports', `${outputText}\nreturn typeof app === 'undefined' ? undefined : app;`);
  const app = body(load, module, module.exports) as unknown;
  expect(app).toBeInstanceOf(App);
  return app as App;
}

describe("README's Constructs section", () => {
  // The snippets make their own App: skip aws-cdk-lib's CloudFormation schema validation there, which costs several
  // seconds of CPU on a first synth.
  const validation = process.env.CDK_VALIDATION;
  beforeAll(() => {
    process.env.CDK_VALIDATION = 'false';
  });
  afterAll(() => {
    if (validation === undefined) delete process.env.CDK_VALIDATION;
    else process.env.CDK_VALIDATION = validation;
  });

  test('has a subsection with a TypeScript snippet for each construct, importing it from the package', () => {
    expect([...new Set(snippets.map((snippet) => snippet.construct))]).toEqual(CONSTRUCTS);
    for (const snippet of snippets) {
      expect(snippet.code).toContain(`from '${PACKAGE_NAME}'`);
      expect(snippet.code).toMatch(new RegExp(`\\b(new )?${snippet.construct}\\b`));
    }
  });

  test('every snippet type-checks against src/ with strict settings, and a type error would be reported', () => {
    // A snippet with a type error, checked in the same program, shows that the check is not vacuous.
    const broken: Snippet = {
      construct: 'ImageSigner',
      code: `import { ImageSigner } from '${PACKAGE_NAME}';\nexport const props: ConstructorParameters<typeof ImageSigner>[2] = { signingProfiles: 'x' };\n`,
      fileName: path.join(__dirname, 'readme-snippet-broken.ts'),
    };
    const diagnostics = typeCheck([...snippets, broken]);
    expect(diagnostics.filter((d) => !d.startsWith('readme-snippet-broken.ts:'))).toEqual([]);
    expect(diagnostics.join('\n')).toMatch(/^readme-snippet-broken.ts:2:\d+ Type 'string' is not assignable to type 'INotationSigningProfile\[\]'/m);
  });

  test.each(snippets.map((snippet, index) => [index + 1, snippet.construct, snippet] as const))(
    'snippet %d (%s) synthesizes without errors',
    (_index, construct, snippet) => {
      const app = run(snippet);
      const assembly = app.synth();
      expect(assembly.stacks.length).toBeGreaterThan(0);
      for (const stack of assembly.stacks) {
        expect(stack.messages.filter((message) => message.level === 'error')).toEqual([]);
      }
      const types = new Set(assembly.stacks.flatMap((stack) => Object.values<any>(stack.template.Resources ?? {}).map((r) => r.Type)));
      // A trust policy is no resource of its own: its snippets publish it as an output instead.
      const expected: Record<string, string> = {
        NotationSigningProfile: 'AWS::Signer::SigningProfile',
        ImageSigner: 'AWS::Events::Rule',
        ImageVerifier: 'AWS::Lambda::Function',
        EcsSignatureEnforcement: 'AWS::Events::Rule',
        SignedImagePipeline: 'AWS::CodePipeline::Pipeline',
      };
      if (construct === 'TrustPolicy') {
        const outputs = Object.keys(assembly.stacks[0].template.Outputs ?? {});
        expect(outputs.some((name) => name.startsWith('TrustPolicyTrustPolicyJson'))).toBe(true);
      } else {
        expect(types).toContain(expected[construct]);
      }
    },
  );
});
