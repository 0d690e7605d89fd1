import { kafkaPythonTool } from '../tools.js';

const _kafkaPython = kafkaPythonTool();
