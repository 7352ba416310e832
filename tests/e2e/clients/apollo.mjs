// Apollo Client (with apollo-upload-client's multipart link) against a live Qingkuan server.
// Usage: node apollo.mjs <server url> <voucher png path>; prints one JSON object of what it saw.
import { readFile } from "node:fs/promises";
import { createHash } from "node:crypto";
import { ApolloClient, InMemoryCache, gql } from "@apollo/client/core/index.js";
import createUploadLink from "apollo-upload-client/createUploadLink.mjs";

const [url, voucherPath] = process.argv.slice(2);
const PASSWORD = "demo1234";

function client(token) {
  const headers = token ? { Authorization: `Bearer ${token}` } : {};
  return new ApolloClient({
    link: createUploadLink({ uri: `${url}/graphql`, headers }),
    cache: new InMemoryCache(),
    defaultOptions: { query: { fetchPolicy: "no-cache" }, mutate: { fetchPolicy: "no-cache" } },
  });
}

const LOGIN = gql`mutation Login($u: String!, $p: String!) { login(username: $u, password: $p) { token } }`;
const LOANS = gql`query Loans($after: String) { loans(first: 4, after: $after) {
  totalCount edges { node { id } } pageInfo { hasNextPage endCursor } } }`;
const SUBMIT = gql`mutation Submit($input: ReimbursementInput!) { submitReimbursement(input: $input) {
  id lines { vouchers { filename sha256 url } } } }`;
const APPLY = gql`mutation Apply($a: Decimal!) { applyForLoan(input: {amount: $a, purpose: CLIENT_VISIT,
  description: "拜访客户（Apollo 重试）"}) { id status } }`;
const COUNT = gql`query Count { loans(first: 1) { totalCount } }`;

async function login(username) {
  const { data } = await client().mutate({ mutation: LOGIN, variables: { u: username, p: PASSWORD } });
  return data.login.token;
}

const out = {};

// Cursors: finance sees every loan of the demo company.
const finance = client(await login("zhaomin"));
const ids = [];
let after = null;
for (;;) {
  const { data } = await finance.query({ query: LOANS, variables: { after } });
  ids.push(...data.loans.edges.map((e) => e.node.id));
  out.totalCount = data.loans.totalCount;
  if (!data.loans.pageInfo.hasNextPage) break;
  after = data.loans.pageInfo.endCursor;
}
out.loanIds = ids;

// A voucher per the GraphQL multipart request spec, then its download with the bearer token.
const employeeToken = await login("wangqiang");
const bytes = await readFile(voucherPath);
const file = new File([bytes], "发票.png", { type: "image/png" });
const { data: submitted } = await client(employeeToken).mutate({ mutation: SUBMIT, variables: { input: { lines: [{
  category: "CLIENT_VISIT", amount: "66.00", incurredOn: "2026-11-21", description: "客户拜访打车费",
  vouchers: [file] }] } } });
const voucher = submitted.submitReimbursement.lines[0].vouchers[0];
out.voucher = voucher;
const download = await fetch(new URL(voucher.url, url), { headers: { Authorization: `Bearer ${employeeToken}` } });
out.downloadStatus = download.status;
out.downloadSha256 = createHash("sha256").update(Buffer.from(await download.arrayBuffer())).digest("hex");
out.uploadedSha256 = createHash("sha256").update(bytes).digest("hex");

// The same mutation retried with one Idempotency-Key: the same answer, one loan.
const applicant = client(await login("huanglei"));
out.countBefore = (await applicant.query({ query: COUNT })).data.loans.totalCount;
out.applies = [];
for (let i = 0; i < 2; i++) {
  const { data } = await applicant.mutate({ mutation: APPLY, variables: { a: "234.00" },
    context: { headers: { "Idempotency-Key": "apollo-retry-1" } } });
  out.applies.push(data.applyForLoan);
}
out.countAfter = (await applicant.query({ query: COUNT })).data.loans.totalCount;

console.log(JSON.stringify(out));
