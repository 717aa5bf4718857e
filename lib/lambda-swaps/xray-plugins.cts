/**
 * What a Lambda bundle gets for the X-Ray SDK's EC2, ECS and Elastic Beanstalk plugins (lib/bundling.ts
 * swaps it in at build time): they add the host's metadata to segments only when passed to
 * `AWSXRay.config([...])`, which nothing calls, and a Lambda runs on none of those hosts (the SDK's
 * Lambda facade segment carries the function's own origin).
 */
export = {
  getData(): never {
    throw new Error("the X-Ray SDK's EC2, ECS and Elastic Beanstalk plugins are left out of the Lambda bundles (lib/bundling.ts)");
  },
  originName: "AWS::Lambda::Function",
};
