/** The parts of jstat (a CommonJS module without its own types) that Kindred uses. */
declare module 'jstat' {
  interface ContinuousDistribution {
    cdf(x: number, ...params: number[]): number;
    inv(p: number, ...params: number[]): number;
  }

  interface JStat {
    /** Student's t: cdf(x, dof), inv(p, dof). */
    studentt: ContinuousDistribution;
    /** Normal: cdf(x, mean, sd), inv(p, mean, sd). */
    normal: ContinuousDistribution;
  }

  const jStat: JStat;
  export default jStat;
}
