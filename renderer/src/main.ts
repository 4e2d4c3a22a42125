import { mount } from 'svelte';
import App from './App.svelte';
import './app.css';
import { guardDrags } from './lib/drag-guard';

const target = document.getElementById('app');
if (!target) throw new Error('missing #app');
guardDrags(document);
mount(App, { target });
